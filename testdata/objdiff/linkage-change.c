#include "kernel.h"

#ifdef PATCHED
noinline int helper(int v)
#else
static noinline int helper(int v)
#endif
{
	return _printk("helper %d\n", v);
}

int entry(int v)
{
	return helper(v) + 1;
}
