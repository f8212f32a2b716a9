#include "kernel.h"

#ifdef PATCHED
#line 40
#endif
int sleepy(int v)
{
	__might_sleep(__FILE__, __LINE__);
#ifdef PATCHED
	return _printk("sleepy %d\n", v + 1);
#else
	return _printk("sleepy %d\n", v);
#endif
}
