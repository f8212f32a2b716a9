// SPDX-License-Identifier: GPL-2.0
/*
 * klpkit lab sample livepatch: while enabled, /proc/cmdline shows a fixed
 * marker instead of the kernel command line. The lab's end-to-end test and
 * `klplab demo` build this against the lab kernel's headers and load it in
 * a QEMU guest.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* Keep in sync with internal/lab.SampleMarker. */
#define KLPLAB_MARKER "klpkit-lab-sample: /proc/cmdline is livepatched"

/* Replacement for fs/proc/cmdline.c's cmdline_proc_show(). */
static int klplab_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, KLPLAB_MARKER);
	seq_putc(m, '\n');
	return 0;
}

static struct klp_func klplab_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klplab_cmdline_show,
	},
	{ }
};

static struct klp_object klplab_objects[] = {
	{
		/* .name NULL: the function lives in vmlinux */
		.funcs = klplab_funcs,
	},
	{ }
};

static struct klp_patch klplab_patch = {
	.mod = THIS_MODULE,
	.objs = klplab_objects,
};

static int __init klplab_sample_init(void)
{
	return klp_enable_patch(&klplab_patch);
}

static void __exit klplab_sample_exit(void)
{
}

module_init(klplab_sample_init);
module_exit(klplab_sample_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("klpkit");
MODULE_DESCRIPTION("klpkit lab sample: livepatch cmdline_proc_show");
MODULE_INFO(livepatch, "Y");
