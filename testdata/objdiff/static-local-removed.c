#include "kernel.h"

int count_calls(int v)
{
#ifdef PATCHED
	return _printk("call %d\n", v);
#else
	static int calls;

	calls++;
	return _printk("call %d of %d\n", v, calls);
#endif
}
