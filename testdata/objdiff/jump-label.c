#include "kernel.h"

extern struct static_key feature_key;

int with_label(int v)
{
	if (static_branch(&feature_key))
#ifdef PATCHED
		return _printk("feature on %d (patched)\n", v);
#else
		return _printk("feature on %d\n", v);
#endif
	return v;
}

int other_label(int v)
{
	if (static_branch(&feature_key))
		return _printk("other on %d\n", v);
	return v;
}
