#include "kernel.h"

int __init setup_thing(void)
{
#ifdef PATCHED
	return _printk("setup %d\n", 2);
#else
	return _printk("setup %d\n", 1);
#endif
}
