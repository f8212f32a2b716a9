#include "kernel.h"

/* The original is partially inlined into its callers, leaving
 * lookup.part.0; the patch makes it small enough to inline whole. The
 * changed line then lives only in the callers. */
extern int work(int v);
extern int table[64];

static int lookup(int x)
{
	if (x < 0)
		return 0;
#ifndef PATCHED
	for (int i = 0; i < 64; i++) {
		table[i] += work(x + i);
		if (table[i] == x)
			_printk("hit %d\n", i);
	}
	return table[x & 63] + work(x);
#else
	return x * 3;
#endif
}

int lookup_user1(int x)
{
	return lookup(x) + 1;
}

int lookup_user2(int x)
{
	return lookup(x + 7) * 2;
}
