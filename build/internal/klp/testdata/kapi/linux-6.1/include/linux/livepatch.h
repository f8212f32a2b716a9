/*
 * Stand-in for tests: the livepatch API from Linux 5.1 on. module_init
 * only enables the patch; klp_patch has states and replace (atomic
 * replace). There is no register, unregister or disable call.
 */
#ifndef KLPKIT_STUB_LIVEPATCH_H
#define KLPKIT_STUB_LIVEPATCH_H

#include <linux/module.h>

struct klp_func {
	const char *old_name;
	void *new_func;
	unsigned long old_sympos;

	/* kernel-owned */
	void *old_func;
	struct kobject kobj;
	struct list_head node;
	bool nop, patched, transition;
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
	struct list_head func_list, node;
	struct module *mod;
	bool dynamic, patched;
};

struct klp_state {
	unsigned long id;
	unsigned int version;
	void *data;
};

struct klp_patch {
	struct module *mod;
	struct klp_object *objs;
	struct klp_state *states;
	bool replace;

	/* kernel-owned */
	struct list_head list, obj_list;
	struct kobject kobj;
	bool enabled, forced;
};

int klp_enable_patch(struct klp_patch *patch);

#endif
