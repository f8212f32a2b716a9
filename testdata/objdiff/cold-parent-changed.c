#include "kernel.h"

/*
 * gcc -O2 moves the unlikely branch into limited.cold (.text.unlikely.limited),
 * which jumps back into the middle of limited. Only the hot path changes, so
 * limited.cold is byte-identical: the patch object must still carry its own
 * copy, or the new limited would jump into the running kernel's old cold
 * part, which jumps back into the old limited.
 */
extern void report_failure(const char *what, int code) __attribute__((__cold__));
extern int consume(int v);

int limited(int *p, int n)
{
	int r;

	if (unlikely(!p || n < 0)) {
		report_failure("bad argument", n);
		r = consume(-22);
	} else {
#ifdef PATCHED
		r = *p * n + 7;
#else
		r = *p * n + 3;
#endif
	}
	return consume(r) + 1;
}
