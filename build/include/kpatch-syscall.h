/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-syscall.h: KPATCH_SYSCALL_DEFINE1..6, drop-in replacements for
 * SYSCALL_DEFINE1..6 in a patch that changes a system call.
 *
 * Why not SYSCALL_DEFINEn: it puts the body in a static inline
 * __do_sys_<name>, and inline means notrace in the kernel, so when gcc
 * keeps __do_sys_<name> out of line (as it often does) the changed
 * function has no ftrace hook and cannot be livepatched. These macros
 * give the body another name, __kpatch_do_sys_<name>: the differ sees a
 * new function, which the module carries, and a changed caller,
 * __x64_sys_<name> (with __se_sys_<name> inlined into it), which has a
 * hook. __x64_sys_<name>, __ia32_sys_<name> and __se_sys_<name> keep
 * their names so they match the running kernel's.
 *
 * The syscall trace metadata (__syscalls_metadata, _ftrace_events) that
 * SYSCALL_DEFINEn adds describes the running kernel's syscall already;
 * these macros emit placeholders instead and ignore both sections.
 */
#ifndef KLPKIT_KPATCH_SYSCALL_H
#define KLPKIT_KPATCH_SYSCALL_H

#include <linux/syscalls.h>
#include "kpatch-macros.h"

#define KPATCH_SYSCALL_DEFINE1(name, ...) KPATCH_SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) KPATCH_SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) KPATCH_SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) KPATCH_SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) KPATCH_SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) KPATCH_SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

#define KPATCH_SYSCALL_DEFINEx(x, sname, ...)				\
	__KLPKIT_SYSCALL_PLACEHOLDERS(sname);				\
	__KLPKIT_SYSCALL_DEFINEx(x, sname, __VA_ARGS__)

#define __KLPKIT_SYSCALL_PLACEHOLDERS(sname)				\
	static struct syscall_metadata *__p_syscall_meta_##sname	\
	__used __klpkit_section("__syscalls_metadata") = NULL;	\
	KPATCH_IGNORE_SECTION("__syscalls_metadata");			\
	static struct trace_event_call *__event_enter_##sname		\
	__used __klpkit_section("_ftrace_events") = NULL;		\
	KPATCH_IGNORE_SECTION("_ftrace_events")

/* The body's arguments, as the running kernel's __se_sys_ passes them. */
#define __KLPKIT_SE_SYS(x, name, ...)					\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__))	\
	{								\
		long ret = __kpatch_do_sys##name(__MAP(x, __SC_CAST, __VA_ARGS__)); \
		__MAP(x, __SC_TEST, __VA_ARGS__);			\
		__PROTECT(x, ret, __MAP(x, __SC_ARGS, __VA_ARGS__));	\
		return ret;						\
	}

#if defined(CONFIG_X86_64) && LINUX_VERSION_CODE >= KERNEL_VERSION(5, 7, 0)

/* x86_64 pt_regs wrappers of Linux 5.7 and later. */
#define __KLPKIT_SYSCALL_DEFINEx(x, name, ...)				\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__));	\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__)); \
	__X64_SYS_STUBx(x, name, __VA_ARGS__)				\
	__IA32_SYS_STUBx(x, name, __VA_ARGS__)				\
	__KLPKIT_SE_SYS(x, name, __VA_ARGS__)				\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))

#elif defined(CONFIG_X86_64) && LINUX_VERSION_CODE >= KERNEL_VERSION(4, 17, 0)

/* x86_64 pt_regs wrappers of Linux 4.17 to 5.6 (Photon 3's 4.19). */
#define __KLPKIT_SYSCALL_DEFINEx(x, name, ...)				\
	asmlinkage long __x64_sys##name(const struct pt_regs *regs);	\
	ALLOW_ERROR_INJECTION(__x64_sys##name, ERRNO);			\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__));	\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__)); \
	asmlinkage long __x64_sys##name(const struct pt_regs *regs)	\
	{								\
		return __se_sys##name(SC_X86_64_REGS_TO_ARGS(x, __VA_ARGS__)); \
	}								\
	__IA32_SYS_STUBx(x, name, __VA_ARGS__)				\
	__KLPKIT_SE_SYS(x, name, __VA_ARGS__)				\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))

#else
#error "KPATCH_SYSCALL_DEFINEn: klpkit supports x86_64 kernels from Linux 4.17 (pt_regs syscall wrappers)"
#endif

#endif /* KLPKIT_KPATCH_SYSCALL_H */
