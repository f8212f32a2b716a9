#include "kernel.h"

/*
 * Only a string printed by __init code changes: the instructions and
 * relocations are the same, the literal they point at is not. The running
 * kernel ran this code at boot; a livepatch cannot change what it did, so
 * the diff refuses (init-changed) rather than report "no changes".
 */
int __init setup_banner(void)
{
#ifdef PATCHED
	return _printk("banner: ready (fixed)\n");
#else
	return _printk("banner: ready\n");
#endif
}

int untouched(int x)
{
	return x * 3;
}
