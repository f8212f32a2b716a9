/* Stand-in for tests: WARN_ON reports through a function the driver defines. */
#ifndef KLPKIT_STUB_KERNEL_H
#define KLPKIT_STUB_KERNEL_H

#include <linux/types.h>

void stub_warn(const char *file, int line);

#define WARN_ON(cond) ({				\
	int stub_cond = !!(cond);			\
	if (stub_cond)					\
		stub_warn(__FILE__, __LINE__);		\
	stub_cond;					\
})

#endif
