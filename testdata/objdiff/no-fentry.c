#include "kernel.h"

notrace int fast_path(int v)
{
#ifdef PATCHED
	return _printk("fast %d!\n", v);
#else
	return _printk("fast %d\n", v);
#endif
}
