#include "kernel.h"

/* GCC splits report_range into a hot part and report_range.cold. The
 * patched build calls a cold function at the very top, so GCC puts the
 * whole function into .text.unlikely.report_range, the section the
 * original's cold part had: a section-name pairing would mistake the new
 * report_range for the old cold part and leave the old code running. */
extern void warn_cold(int v) __attribute__((__cold__));
extern int work(int v);

int report_range(int x)
{
#ifdef PATCHED
	warn_cold(0);
#endif
	if (unlikely(x > 100)) {
		warn_cold(x);
		warn_cold(x + 1);
		work(x);
		return -1;
	}
	return work(x) * 2;
}

int report_user(int y)
{
	return report_range(y) + 1;
}
