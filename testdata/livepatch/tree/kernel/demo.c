// SPDX-License-Identifier: GPL-2.0
/*
 * Demo subsystem: a fixture with data, a syscall, WARN sites and a struct.
 */
#include <linux/kernel.h>
#include <linux/syscalls.h>
#include <linux/demo.h>

struct demo_state {
	int users;
	unsigned long flags;
};

static struct demo_state demo_global = {
	.users = 0,
	.flags = 0,
};

int demo_limit = 16;

static int __initdata demo_boot_users = 1;

static int demo_check(int n)
{
	if (n < 0)
		return -EINVAL;
	if (n > demo_limit)
		return -E2BIG;
	return 0;
}

int demo_get(int n)
{
	int ret;

	ret = demo_check(n);
	if (ret)
		return ret;
	demo_global.users++;
	return demo_global.users;
}
EXPORT_SYMBOL_GPL(demo_get);

void demo_put(void)
{
	WARN_ON(demo_global.users == 0);
	demo_global.users--;
}

SYSCALL_DEFINE1(demo, int, n)
{
	if (n == 0)
		return demo_global.users;
	return demo_get(n);
}

static void demo_report(void)
{
	pr_info("demo: %d users\n", demo_global.users);
	BUG_ON(demo_global.users < 0);
}

static int __init demo_init(void)
{
	demo_global.users = demo_boot_users - 1;
	demo_report();
	return 0;
}

static void __exit demo_exit(void)
{
	demo_report();
}
