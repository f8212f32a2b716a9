#include "kernel.h"

extern int register_handler(int (*fn)(int));

noinline int handler(int v)
{
#ifdef PATCHED
	return _printk("handled %d (patched)\n", v);
#else
	return _printk("handled %d\n", v);
#endif
}

int setup(void)
{
#ifdef PATCHED
	_printk("registering\n");
#endif
	/* The kernel knows handler by its original address. */
	return register_handler(handler) + handler(0);
}
