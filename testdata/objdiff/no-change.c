#include "kernel.h"

/* The patch only edits this comment
#ifdef PATCHED
 * (patched)
#endif
 */
int show_value(int v)
{
	return _printk("value is %d\n", v);
}
