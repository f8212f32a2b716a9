// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch of klpkit_sleeper_wait() in module klpkit_sleeper. The
 * sleeper's kthread never leaves that function, so this patch's transition
 * never completes: kmod must report the thread and revert.
 */
#include <linux/livepatch.h>
#include <linux/module.h>

static int klpkit_sleeper_wait_patched(void)
{
	return 0;
}

static struct klp_func klpkit_funcs[] = {
	{ .old_name = "klpkit_sleeper_wait", .new_func = klpkit_sleeper_wait_patched },
	{ }
};

static struct klp_object klpkit_objs[] = {
	{ .name = "klpkit_sleeper", .funcs = klpkit_funcs },
	{ }
};

static struct klp_patch klpkit_patch = {
	.mod = THIS_MODULE,
	.objs = klpkit_objs,
};

static int __init klpkit_stall_init(void)
{
	return klp_enable_patch(&klpkit_patch);
}

static void __exit klpkit_stall_exit(void)
{
}

module_init(klpkit_stall_init);
module_exit(klpkit_stall_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod VM test: a patch whose transition stalls");
MODULE_INFO(livepatch, "Y");
