/* SPDX-License-Identifier: GPL-2.0 */
#include <linux/linkage.h>

SYM_FUNC_START(demo_entry)
	movl	$1, %eax
	RET
SYM_FUNC_END(demo_entry)
