/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-macros.h: klpkit's implementation of the macros patches written
 * for kpatch-build use. klpkit's build adds this directory to the include
 * path of the patched compile, so `#include "kpatch-macros.h"` works in a
 * patch unchanged. The macros only place markers in special sections
 * (.kpatch.*) that klpkit's object differ and module generator read; none
 * of those sections reaches the livepatch module.
 */
#ifndef KLPKIT_KPATCH_MACROS_H
#define KLPKIT_KPATCH_MACROS_H

#include <linux/compiler.h>
#include <linux/jiffies.h>
#include <linux/printk.h>
#include <linux/version.h>
#include <linux/livepatch.h>

/* The raw attribute: __section() took a bare word before Linux 5.10. */
#define __klpkit_section(name) __attribute__((__section__(name)))

/*
 * KPATCH_IGNORE_SECTION(".name"): changes to section .name do not count
 * and the section is not carried by the module.
 */
#define KPATCH_IGNORE_SECTION(_sec)					\
	static char *__UNIQUE_ID(kpatch_ignore_section_) __used	\
	__klpkit_section(".kpatch.ignore.sections") = _sec;

/*
 * KPATCH_IGNORE_FUNCTION(fn): fn counts as unchanged even if its code
 * differs (say, only a line number in a WARN changed) and is not patched;
 * patched code that calls it calls the running kernel's fn.
 */
#define KPATCH_IGNORE_FUNCTION(_fn)					\
	static void *__kpatch_ignore_func_##_fn __used			\
	__klpkit_section(".kpatch.ignore.functions") = (void *)(_fn);

/*
 * KPATCH_FORCE_UNSAFE(fn): marks fn for kpatch's activeness-safety bypass.
 * klpkit records the marker but the kernel's livepatch consistency model
 * still applies.
 */
#define KPATCH_FORCE_UNSAFE(_fn)					\
	static void *__kpatch_force_func_##_fn __used			\
	__klpkit_section(".kpatch.force") = (void *)(_fn);

/*
 * Callbacks. The object a callback receives is the kernel's klp_object of
 * the target (vmlinux or a module) the patched file belongs to. Each
 * kind may be used once per patched object file. An entry is
 * { callback, object name }; the name is left NULL and means "the target
 * of this object file", which the build fills in.
 */
typedef struct klp_object patch_object;

typedef int (*kpatch_pre_patch_call_t)(patch_object *obj);
typedef void (*kpatch_post_patch_call_t)(patch_object *obj);
typedef void (*kpatch_pre_unpatch_call_t)(patch_object *obj);
typedef void (*kpatch_post_unpatch_call_t)(patch_object *obj);

struct kpatch_pre_patch_callback {
	kpatch_pre_patch_call_t fn;
	char *objname;
};
struct kpatch_post_patch_callback {
	kpatch_post_patch_call_t fn;
	char *objname;
};
struct kpatch_pre_unpatch_callback {
	kpatch_pre_unpatch_call_t fn;
	char *objname;
};
struct kpatch_post_unpatch_callback {
	kpatch_post_unpatch_call_t fn;
	char *objname;
};

/* The initializer's type checks _fn against the kind's signature. */
#define __KLPKIT_CALLBACK(kind, _fn)					\
	static struct kpatch_##kind##_callback __kpatch_##kind##_entry	\
	__used __klpkit_section(".kpatch.callbacks." #kind) = {		\
		.fn = _fn,						\
		.objname = NULL,					\
	};

/* Runs before the patch is applied; a non-zero return refuses it. */
#define KPATCH_PRE_PATCH_CALLBACK(_fn) __KLPKIT_CALLBACK(pre_patch, _fn)
/* Runs once the patch is applied. */
#define KPATCH_POST_PATCH_CALLBACK(_fn) __KLPKIT_CALLBACK(post_patch, _fn)
/* Runs before the patch is removed. */
#define KPATCH_PRE_UNPATCH_CALLBACK(_fn) __KLPKIT_CALLBACK(pre_unpatch, _fn)
/* Runs once the patch is removed. */
#define KPATCH_POST_UNPATCH_CALLBACK(_fn) __KLPKIT_CALLBACK(post_unpatch, _fn)

/*
 * The load/unload hooks of kpatch before callbacks existed: void fn(void),
 * run after patching (load) and before unpatching (unload). They take the
 * post_patch and pre_unpatch slots of the object file.
 */
#define KPATCH_LOAD_HOOK(_fn)						\
	static void __kpatch_load_hook_##_fn(patch_object *obj)	\
	{								\
		void (*hook)(void) = _fn;				\
		hook();							\
	}								\
	KPATCH_POST_PATCH_CALLBACK(__kpatch_load_hook_##_fn)
#define KPATCH_UNLOAD_HOOK(_fn)						\
	static void __kpatch_unload_hook_##_fn(patch_object *obj)	\
	{								\
		void (*hook)(void) = _fn;				\
		hook();							\
	}								\
	KPATCH_PRE_UNPATCH_CALLBACK(__kpatch_unload_hook_##_fn)

/*
 * KPATCH_PRINTK: printk is __cold, so a path calling it directly may be
 * moved to .text.unlikely or change how gcc inlines the code around it.
 * The opaque condition keeps the call on a path of its own.
 */
#define KPATCH_PRINTK(_fmt, ...)					\
({									\
	if (READ_ONCE(jiffies))						\
		printk(_fmt, ##__VA_ARGS__);				\
})
#define KPATCH_PRINTK_DEFERRED(_fmt, ...)				\
({									\
	if (READ_ONCE(jiffies))						\
		printk_deferred(_fmt, ##__VA_ARGS__);			\
})

/*
 * KPATCH_STATIC_CALL(name): call through the static call's key instead of
 * its trampoline, for a key a module owns (the trampoline cannot be
 * relocated from a livepatch). Use as KPATCH_STATIC_CALL(name)(args).
 */
#define KPATCH_STATIC_CALL(name)					\
	((typeof(STATIC_CALL_TRAMP(name)) *)(STATIC_CALL_KEY(name).func))

/*
 * Shadow variables: use the kernel's klp_shadow_* API (linux/livepatch.h,
 * included above) directly, as kpatch's own patches do. For patches
 * written against kpatch's old kmod API, which named shadow variables by
 * string, kpatch_shadow_{alloc,get,free} map the name to a klp shadow id.
 */
static inline unsigned long __kpatch_shadow_id(const char *name)
{
	unsigned long h = 14695981039346656037UL; /* FNV-1a */

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211UL;
	return h;
}

static inline void *kpatch_shadow_alloc(void *obj, const char *name,
					size_t size, gfp_t gfp)
{
	return klp_shadow_alloc(obj, __kpatch_shadow_id(name), size, gfp,
				NULL, NULL);
}

static inline void *kpatch_shadow_get(void *obj, const char *name)
{
	return klp_shadow_get(obj, __kpatch_shadow_id(name));
}

static inline void kpatch_shadow_free(void *obj, const char *name)
{
	klp_shadow_free(obj, __kpatch_shadow_id(name), NULL);
}

#include "kpatch-syscall.h"

#endif /* KLPKIT_KPATCH_MACROS_H */
