// SPDX-License-Identifier: GPL-2.0
/*
 * klpkit out-of-tree test module: /proc/klpkit_oot says which code runs and
 * counts its reads in a static variable of the module. The tests livepatch
 * it with ../klpkit_oot.patch (kpatch-build --oot-module): the patched
 * function must keep counting in the module's variable.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static unsigned long klpkit_oot_reads;

static int klpkit_oot_show(struct seq_file *m, void *v)
{
	klpkit_oot_reads++;
	seq_printf(m, "klpkit-oot: original reads=%lu\n", klpkit_oot_reads);
	return 0;
}

/* An export: the build's Module.symvers lists it with its CRC. */
unsigned long klpkit_oot_read_count(void)
{
	return klpkit_oot_reads;
}
EXPORT_SYMBOL_GPL(klpkit_oot_read_count);

static int __init klpkit_oot_init(void)
{
	if (!proc_create_single("klpkit_oot", 0444, NULL, klpkit_oot_show))
		return -ENOMEM;
	return 0;
}

static void __exit klpkit_oot_exit(void)
{
	remove_proc_entry("klpkit_oot", NULL);
}

module_init(klpkit_oot_init);
module_exit(klpkit_oot_exit);
MODULE_DESCRIPTION("klpkit out-of-tree livepatch test module");
MODULE_LICENSE("GPL");
