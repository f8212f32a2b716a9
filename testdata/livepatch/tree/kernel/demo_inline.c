// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>
#include <linux/demo.h>

static inline int demo_clamp(int n)
{
	return n > DEMO_MAX_USERS ? DEMO_MAX_USERS : n;
}

static __always_inline int demo_double(int n)
{
	return 2 * n;
}

static notrace int demo_trace_safe(int n)
{
	return n + 1;
}

int demo_scaled(int n)
{
	return demo_double(demo_clamp(n)) + demo_trace_safe(n);
}
