#include "kernel.h"

#ifdef PATCHED
int threshold = 20;
#else
int threshold = 10;
#endif

int over(int v)
{
	return v > threshold;
}
