/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One livepatch of cmdline_proc_show (fs/proc/cmdline.c): while it is the
 * active patch, /proc/cmdline reads KLPKIT_MARKER. The including file
 * defines KLPKIT_MARKER and KLPKIT_REPLACE.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int klpkit_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, KLPKIT_MARKER "\n");
	return 0;
}

static struct klp_func klpkit_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = klpkit_cmdline_show },
	{ }
};

static struct klp_object klpkit_objs[] = {
	{ .funcs = klpkit_funcs },	/* vmlinux */
	{ }
};

static struct klp_patch klpkit_patch = {
	.mod = THIS_MODULE,
	.objs = klpkit_objs,
	.replace = KLPKIT_REPLACE,
};

static int __init klpkit_init(void)
{
	return klp_enable_patch(&klpkit_patch);
}

static void __exit klpkit_exit(void)
{
}

module_init(klpkit_init);
module_exit(klpkit_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod VM test patch: " KLPKIT_MARKER);
MODULE_INFO(livepatch, "Y");
