/* Stand-in for tests: the few kernel types the livepatch stubs use. */
#ifndef KLPKIT_STUB_TYPES_H
#define KLPKIT_STUB_TYPES_H

typedef _Bool bool;
#define true 1
#define false 0

#ifndef NULL
#define NULL ((void *)0)
#endif

struct list_head {
	struct list_head *next, *prev;
};

struct kobject {
	const char *name;
	struct list_head entry;
};

#endif
