#include "kernel.h"

int count_calls(int v)
{
	static int calls;

	calls++;
#ifdef PATCHED
	return _printk("call %d of %d (patched)\n", v, calls);
#else
	return _printk("call %d of %d\n", v, calls);
#endif
}
