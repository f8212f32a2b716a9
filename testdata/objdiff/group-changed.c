#include "kernel.h"

/*
 * grouped_helper lives in a COMDAT section group (as gcc emits for
 * functions the linker may deduplicate). It changes, so the patch object
 * would need the group; klpkit does not carry groups into the patch
 * object, so the change is refused rather than the group silently dropped.
 */
#ifdef PATCHED
#define GROUPED_VALUE "2"
#else
#define GROUPED_VALUE "1"
#endif

asm(".section .text.grouped_helper,\"axG\",@progbits,grouped_helper,comdat\n"
    ".weak grouped_helper\n"
    ".type grouped_helper, @function\n"
    "grouped_helper:\n"
    "\tcall __fentry__\n"
    "\tmovl $" GROUPED_VALUE ", %eax\n"
    "\tret\n"
    ".size grouped_helper, .-grouped_helper\n"
    ".previous\n");

int grouped_helper(void);

int plain_caller(int x)
{
	return grouped_helper() + x;
}
