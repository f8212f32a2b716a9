#include "kernel.h"

/* Built position-independent (the test adds -fPIC), GCC calls a global
 * function from its own unit through a local alias at the function's own
 * address, fib.localalias. The patch changes fib: its alias is part of
 * it, and no new function. */
int fib(int n)
{
	if (n <= 1)
		return n;
#ifdef PATCHED
	_printk("fib %d\n", n);
#endif
	return fib(n - 1) + fib(n - 2);
}

int fib_user(int n)
{
	return fib(n) + 1;
}
