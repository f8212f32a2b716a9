#include "kernel.h"

/* GCC passes compute's fields by value (compute.isra.0); the patch passes
 * the pointer on, so the clone goes and plain compute comes. */
extern void keep(void *p);
struct cfg { int a, b, c, d; long pad[8]; };

static noinline int compute(struct cfg *c)
{
	int a = c->a;
#ifdef PATCHED
	keep(c);
#endif
	return _printk("%d %d %d %d\n", a, c->b, a * 7, a ^ 3) + a;
}

int cfg_entry1(struct cfg *c)
{
	return compute(c) + 1;
}

int cfg_entry2(struct cfg *c)
{
	c->b++;
	return compute(c) + 2;
}
