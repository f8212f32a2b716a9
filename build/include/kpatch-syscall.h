/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-syscall.h: KPATCH_SYSCALL_DEFINE1..6, written where the kernel
 * source says SYSCALL_DEFINE1..6, for a patch that changes a system call.
 *
 * The kernel's wrappers (x86_64 since Linux 4.17, where
 * CONFIG_ARCH_HAS_SYSCALL_WRAPPER is set; the same shape in 4.19, 5.10 and
 * 6.1): SYSCALL_DEFINEn(name, type, arg, ...) makes
 *   __x64_sys_name(const struct pt_regs *)  the syscall table's entry; the
 *       arguments are in di, si, dx, r10, r8, r9;
 *   __ia32_sys_name(const struct pt_regs *) the same for 32-bit tasks
 *       (CONFIG_IA32_EMULATION): bx, cx, dx, si, di, bp, 32 bits each;
 *   static __se_sys_name(long, ...)  converts each long to its type;
 *   static inline __do_sys_name(type arg, ...)  the body;
 *   SYSCALL_METADATA (CONFIG_FTRACE_SYSCALLS)  pointers in the
 *       __syscalls_metadata and _ftrace_events sections.
 * "inline" is notrace in the kernel: when gcc keeps __do_sys_name out of
 * line it has no ftrace hook, so a changed body cannot be patched there.
 *
 * Here the body is __klpkit_sys_name instead, a function the running
 * kernel lacks, so the module carries it as new code. The entries and
 * __se_sys_name keep the kernel's names and conventions, so the function
 * that changes (and gets patched) is __x64_sys_name, which has a hook.
 * The trace metadata describes the running kernel's syscall already:
 * NULL placeholders of the same names stand in, and the differ ignores
 * both sections.
 */
#ifndef KLPKIT_KPATCH_SYSCALL_H
#define KLPKIT_KPATCH_SYSCALL_H

#include <linux/syscalls.h>
#include "kpatch-macros.h"

#if !defined(CONFIG_X86_64) || !defined(CONFIG_ARCH_HAS_SYSCALL_WRAPPER)
#error "kpatch-syscall.h: klpkit supports x86_64 kernels with pt_regs syscall wrappers (Linux 4.17 and later)"
#endif

#define KPATCH_SYSCALL_DEFINE1(name, ...) KPATCH_SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) KPATCH_SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) KPATCH_SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) KPATCH_SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) KPATCH_SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) KPATCH_SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

/*
 * n arguments, sname = _name. In order: the placeholders, the prototypes
 * the entries need, the entries, __se_sys_name, and the head of the body,
 * which the patch's { ... } completes.
 */
#define KPATCH_SYSCALL_DEFINEx(n, sname, ...)				\
	__klpkit_trace_placeholders(sname)				\
	static inline long __klpkit_sys##sname(__MAP(n, __SC_DECL, __VA_ARGS__)); \
	static long __se_sys##sname(__MAP(n, __SC_LONG, __VA_ARGS__));	\
	__klpkit_entry(x64, sname, __klpkit_x64_args##n)		\
	__klpkit_compat_entry(n, sname)					\
	__klpkit_widen(n, sname, __VA_ARGS__)				\
	static inline long __klpkit_sys##sname(__MAP(n, __SC_DECL, __VA_ARGS__))

/* Where argument 1..k of an x86_64 syscall is (entry_SYSCALL_64). */
#define __klpkit_x64_args1 regs->di
#define __klpkit_x64_args2 __klpkit_x64_args1, regs->si
#define __klpkit_x64_args3 __klpkit_x64_args2, regs->dx
#define __klpkit_x64_args4 __klpkit_x64_args3, regs->r10
#define __klpkit_x64_args5 __klpkit_x64_args4, regs->r8
#define __klpkit_x64_args6 __klpkit_x64_args5, regs->r9

/* The same for int 0x80 / sysenter: 32-bit registers, zero-extended. */
#define __klpkit_ia32_args1 (unsigned int)regs->bx
#define __klpkit_ia32_args2 __klpkit_ia32_args1, (unsigned int)regs->cx
#define __klpkit_ia32_args3 __klpkit_ia32_args2, (unsigned int)regs->dx
#define __klpkit_ia32_args4 __klpkit_ia32_args3, (unsigned int)regs->si
#define __klpkit_ia32_args5 __klpkit_ia32_args4, (unsigned int)regs->di
#define __klpkit_ia32_args6 __klpkit_ia32_args5, (unsigned int)regs->bp

/*
 * The entry __<abi>_sys_name the syscall table calls: it passes the
 * registers in args on as longs. Error injection may target it, as it may
 * the kernel's.
 */
#define __klpkit_entry(abi, sname, args)				\
	long __##abi##_sys##sname(const struct pt_regs *regs);		\
	ALLOW_ERROR_INJECTION(__##abi##_sys##sname, ERRNO);		\
	long __##abi##_sys##sname(const struct pt_regs *regs)		\
	{								\
		return __se_sys##sname(args);				\
	}

#ifdef CONFIG_IA32_EMULATION
#define __klpkit_compat_entry(n, sname) __klpkit_entry(ia32, sname, __klpkit_ia32_args##n)
#else
#define __klpkit_compat_entry(n, sname)
#endif

/*
 * __se_sys_name: every register arrives as a long; each argument is
 * converted back to its declared type for the body (__SC_TEST refuses, at
 * compile time, a type wider than a long). x86_64 needs no
 * asmlinkage_protect, so the body's result is returned as is.
 */
#define __klpkit_widen(n, sname, ...)					\
	static long __se_sys##sname(__MAP(n, __SC_LONG, __VA_ARGS__))	\
	{								\
		__MAP(n, __SC_TEST, __VA_ARGS__);			\
		return __klpkit_sys##sname(__MAP(n, __SC_CAST, __VA_ARGS__)); \
	}

/*
 * Stand-ins, under the kernel's names, for what SYSCALL_METADATA puts in
 * the trace sections; the differ ignores both sections.
 */
#define __klpkit_trace_placeholders(sname)				\
	static struct syscall_metadata *__p_syscall_meta_##sname	\
		__used __klpkit_section("__syscalls_metadata") = NULL;	\
	static struct trace_event_call *__event_enter_##sname		\
		__used __klpkit_section("_ftrace_events") = NULL;	\
	static struct trace_event_call *__event_exit_##sname		\
		__used __klpkit_section("_ftrace_events") = NULL;	\
	KPATCH_IGNORE_SECTION("__syscalls_metadata")			\
	KPATCH_IGNORE_SECTION("_ftrace_events")

#endif /* KLPKIT_KPATCH_SYSCALL_H */
