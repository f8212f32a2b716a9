#include "kernel.h"

/* A user access with an exception fixup, as kernels before 5.17 emit it:
 * the fixup code lives in .fixup and __ex_table points at both. */
static inline __attribute__((__always_inline__)) int get_user_int(const int *p)
{
	int ret;

	asm volatile("1: movl (%1), %0\n"
		     "2:\n"
		     ".section .fixup, \"ax\"\n"
		     "3: movl $-14, %0\n"
		     "   jmp 2b\n"
		     ".previous\n"
		     ".pushsection __ex_table, \"a\"\n"
		     ".balign 4\n"
		     ".long 1b - ., 3b - ., 0\n"
		     ".popsection\n"
		     : "=r"(ret) : "r"(p));
	return ret;
}

int read_first(const int *p)
{
#ifdef PATCHED
	return get_user_int(p) + 1;
#else
	return get_user_int(p);
#endif
}

int read_second(const int *p)
{
	return get_user_int(p + 1);
}
