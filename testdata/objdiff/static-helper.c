#include "kernel.h"

static noinline int helper(int v)
{
	return _printk("helper %d\n", v);
}

int entry(int v)
{
#ifdef PATCHED
	return helper(v) + 2;
#else
	return helper(v) + 1;
#endif
}
