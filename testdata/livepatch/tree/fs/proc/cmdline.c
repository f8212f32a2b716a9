// SPDX-License-Identifier: GPL-2.0
/* A small kernel-style fixture written for klpkit's livepatch tests. */
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static int show_count;

static int cmdline_proc_show(struct seq_file *m, void *v)
{
	show_count++;
	seq_puts(m, saved_command_line);
	seq_putc(m, '\n');
	return 0;
}

/* Registration differs from the kernel's own file on purpose: only the
 * show function above matters to the patches that touch this fixture. */
static int __init proc_cmdline_init(void)
{
	return proc_create_single("cmdline", 0444, NULL, cmdline_proc_show) ? 0 : -ENOMEM;
}
fs_initcall(proc_cmdline_init);
