#include "kernel.h"

int show_value(int v)
{
#ifdef PATCHED
	return _printk("value is %d (patched)\n", v);
#else
	return _printk("value is %d\n", v);
#endif
}

int untouched(int v)
{
	return _printk("untouched %d\n", v) + 1;
}
