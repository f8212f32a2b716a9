/*
 * Stand-in for tests: the livepatch API of Linux 4.15 to 5.0 (4.19 is
 * Photon 3.0's). A patch is registered, then enabled, and unregistered
 * once disabled; klp_patch has no replace field.
 */
#ifndef KLPKIT_STUB_LIVEPATCH_H
#define KLPKIT_STUB_LIVEPATCH_H

#include <linux/module.h>

struct klp_func {
	const char *old_name;
	void *new_func;
	unsigned long old_sympos;

	/* kernel-owned */
	unsigned long old_addr;
	struct kobject kobj;
	bool patched, transition;
};

struct klp_object;

struct klp_callbacks {
	int (*pre_patch)(struct klp_object *obj);
	void (*post_patch)(struct klp_object *obj);
	void (*pre_unpatch)(struct klp_object *obj);
	void (*post_unpatch)(struct klp_object *obj);
	bool post_unpatch_enabled;
};

struct klp_object {
	const char *name;
	struct klp_func *funcs;
	struct klp_callbacks callbacks;

	/* kernel-owned */
	struct kobject kobj;
	struct module *mod;
	bool patched;
};

struct klp_patch {
	struct module *mod;
	struct klp_object *objs;

	/* kernel-owned */
	struct list_head list;
	struct kobject kobj;
	bool enabled;
};

int klp_register_patch(struct klp_patch *patch);
int klp_unregister_patch(struct klp_patch *patch);
int klp_enable_patch(struct klp_patch *patch);
int klp_disable_patch(struct klp_patch *patch);

#endif
