#include "kernel.h"

extern void report_failure(const char *what) __attribute__((__cold__));

int checked(int *p)
{
	if (unlikely(!p)) {
#ifdef PATCHED
		report_failure("null pointer (patched)");
#else
		report_failure("null pointer");
#endif
		return -1;
	}
	return *p + 1;
}
