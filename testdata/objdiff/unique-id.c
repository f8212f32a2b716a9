#include "kernel.h"

/* Compiler-generated names carry counters that move when code is added
 * above them: __UNIQUE_ID() (__COUNTER__), dynamic debug descriptors,
 * __ADDRESSABLE() and the assembler's .LC constant labels. The patched
 * build adds a function at the top that consumes one of each; every other
 * function keeps its code and relocations and must not be patched. */
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

struct _ddebug {
	const char *modname, *function, *filename, *format;
	unsigned int lineno:18, class_id:6, flags:8;
} __attribute__((aligned(8)));
extern void __dynamic_pr_debug(struct _ddebug *d, const char *fmt, ...);

#define __pr_debug(id, fmt, ...) do {						\
	static struct _ddebug __attribute__((__section__("__dyndbg"), __used__))	\
		id = { "fixture", __func__, __FILE__, fmt, __LINE__, 0, 0 };	\
	__dynamic_pr_debug(&id, fmt, ##__VA_ARGS__);				\
} while (0)
#define pr_debug(fmt, ...) __pr_debug(__UNIQUE_ID(ddebug), fmt, ##__VA_ARGS__)

#define ___ADDRESSABLE(sym, id)							\
	static void *__attribute__((__section__(".discard.addressable"), __used__)) \
		id = (void *)&sym
#define __ADDRESSABLE(sym) ___ADDRESSABLE(sym, __UNIQUE_ID(__addressable_##sym))

extern int target(int);

#ifdef PATCHED
int spare(int i)
{
	int b[4] = { 5, 6, 7, 8 };

	__ADDRESSABLE(target);
	pr_debug("spare %d\n", i);
	return b[i & 3];
}
#endif

int debugged(int v)
{
	pr_debug("first %d\n", v);
	pr_debug("second %d\n", v + 1);
	return v;
}

int with_constant(int i)
{
	int a[4] = { 1, 2, 3, 4 };

	return a[i & 3];
}

int addressing(int v)
{
	__ADDRESSABLE(target);
	__ADDRESSABLE(target);
	return target(v);
}
