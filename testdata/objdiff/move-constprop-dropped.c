#include "kernel.h"

/* Every caller passes factor 3, so GCC builds scaled.constprop.0; the
 * patch adds a caller with another factor and plain scaled returns. */
static noinline int scaled(int v, int factor)
{
	return _printk("v=%d\n", v * factor) + factor;
}

int scaled_first(int v)
{
	return scaled(v, 3);
}

int scaled_second(int v)
{
#ifdef PATCHED
	return scaled(v, 5);
#else
	return scaled(v + 1, 3);
#endif
}
