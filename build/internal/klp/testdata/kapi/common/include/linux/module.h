/*
 * Stand-in for tests. module_init and module_exit define functions with
 * fixed names, so a driver can run them and the compiler checks their
 * types (int (void) and void (void)). MODULE_INFO keeps each tag as a
 * "tag=value" string, as .modinfo does.
 */
#ifndef KLPKIT_STUB_MODULE_H
#define KLPKIT_STUB_MODULE_H

#include <linux/types.h>

struct module {
	const char *name;
};

extern struct module stub_this_module;
#define THIS_MODULE (&stub_this_module)

#define __init
#define __exit

#define module_init(fn) int stub_module_init(void) { return fn(); }
#define module_exit(fn) void stub_module_exit(void) { fn(); }

#define MODULE_INFO(tag, info) \
	const char stub_modinfo_##tag[] = #tag "=" info
#define MODULE_LICENSE(text) MODULE_INFO(license, text)
#define MODULE_DESCRIPTION(text) MODULE_INFO(description, text)

#endif
