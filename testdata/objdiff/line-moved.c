#include "kernel.h"

/* kpatch's warn-detect-FAIL: a line added at the top of the file moves
 * every __LINE__ below it and nothing else. Each way a line number reaches
 * the object is used here: an immediate passed to a WARN-style call, a
 * "file.c:LINE" string, a dynamic debug descriptor. */
#ifdef PATCHED
#line 40
#endif
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)

extern int __warn_printk(const char *fmt, ...);
extern void fortify_warn(const char *msg, unsigned long size);

struct _ddebug {
	const char *modname, *function, *filename, *format;
	unsigned int lineno:18, class_id:6, flags:8;
} __attribute__((aligned(8)));
extern void __dynamic_pr_debug(struct _ddebug *d, const char *fmt, ...);

int warned(int v)
{
	if (unlikely(v < 0))
		__might_sleep(__FILE__, __LINE__);
	return v * 2;
}

void copy_checked(unsigned long size)
{
	if (size > 16)
		fortify_warn("field \"dst\" at " __FILE__ ":" __stringify(__LINE__), size);
}

int debugged(int v)
{
	static struct _ddebug __attribute__((__section__("__dyndbg"), __used__))
		__UNIQUE_ID_ddebug7 = { "fixture", __func__, __FILE__, "v=%d\n", __LINE__, 0, 0 };

	__dynamic_pr_debug(&__UNIQUE_ID_ddebug7, "v=%d\n", v);
	return v;
}
