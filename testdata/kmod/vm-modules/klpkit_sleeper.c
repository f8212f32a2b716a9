// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel thread that sleeps inside klpkit_sleeper_wait() until the module
 * is removed, so that a livepatch of that function can never switch it:
 * the transition stalls, as with a real task blocked in a patched function.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>

static struct task_struct *klpkit_thread;

noinline int klpkit_sleeper_wait(void)
{
	while (!kthread_should_stop())
		msleep_interruptible(50);
	return 0;
}

static int klpkit_sleeper_fn(void *data)
{
	return klpkit_sleeper_wait();
}

static int __init klpkit_sleeper_init(void)
{
	klpkit_thread = kthread_run(klpkit_sleeper_fn, NULL, "klpkit_sleeper");
	return PTR_ERR_OR_ZERO(klpkit_thread);
}

static void __exit klpkit_sleeper_exit(void)
{
	kthread_stop(klpkit_thread);
}

module_init(klpkit_sleeper_init);
module_exit(klpkit_sleeper_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod VM test: a kthread asleep in klpkit_sleeper_wait");
