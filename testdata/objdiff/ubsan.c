#include "kernel.h"

/* Built with -fsanitize=bounds: each check passes a descriptor (source
 * location and type descriptors) kept in a symbol-less data section,
 * .data..Lubsan_data<N> (GCC) or .data..L__unnamed_<N> (Clang). The patched
 * build moves every line by 40; with -DCHANGE it also changes get(). */
#ifdef PATCHED
#line 60
#endif
int table[8];

int get(int i)
{
#if defined(PATCHED) && defined(CHANGE)
	return table[i] + 1;
#else
	return table[i];
#endif
}

int get_two(int i)
{
	return table[i] + table[i + 1];
}
