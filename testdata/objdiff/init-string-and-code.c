#include "kernel.h"

/*
 * A string printed by __init code changes together with a function that
 * runs after boot: the function is patched, the init change is reported as
 * a warning (it cannot take effect), as kpatch does (oot-issue-928).
 */
int __init setup_banner(void)
{
#ifdef PATCHED
	return _printk("banner: ready (fixed)\n");
#else
	return _printk("banner: ready\n");
#endif
}

int runtime_value(int x)
{
#ifdef PATCHED
	return x * 5;
#else
	return x * 3;
#endif
}
