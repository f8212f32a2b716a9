#include "kernel.h"

#ifdef PATCHED
noinline int new_helper(int v)
{
	return _printk("helper %d\n", v);
}
#endif

int caller(int v)
{
#ifdef PATCHED
	return new_helper(v) + 1;
#else
	return v + 1;
#endif
}
