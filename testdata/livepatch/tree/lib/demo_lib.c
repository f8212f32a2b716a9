// SPDX-License-Identifier: GPL-2.0
#include <linux/kernel.h>

int demo_lib_add(int a, int b)
{
	return a + b;
}
