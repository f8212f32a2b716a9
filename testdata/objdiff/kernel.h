/* Minimal kernel-like declarations for the objdiff fixtures. */
#define __init __attribute__((__section__(".init.text"), __cold__, __no_instrument_function__))
#define notrace __attribute__((__no_instrument_function__))
#define noinline __attribute__((__noinline__))
#define unlikely(x) __builtin_expect(!!(x), 0)

struct static_key { int enabled; };

extern int _printk(const char *fmt, ...);
extern void __might_sleep(const char *file, int line);
extern void *kmalloc(unsigned long size, int flags);

/* A jump label site as the kernel's arch_static_branch() emits it (6.1,
 * relative entries of 16 bytes: code, target, key). */
static inline __attribute__((__always_inline__)) int static_branch(struct static_key *key)
{
	asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n\t"
		 ".pushsection __jump_table, \"aw\"\n\t"
		 ".balign 8\n\t"
		 ".long 1b - ., %l[l_yes] - .\n\t"
		 ".quad %c0 - .\n\t"
		 ".popsection\n\t"
		 : : "i"(key) : : l_yes);
	return 0;
l_yes:
	return 1;
}

/* A static call site as objtool records it in .static_call_sites (6.1:
 * two relative fields, the call and the key __SCK__<name>). */
#define STATIC_CALL_SITE(key)						\
	asm volatile("1: .byte 0xe8; .long 0\n\t"			\
		     ".pushsection .static_call_sites, \"aw\"\n\t"	\
		     ".balign 4\n\t"					\
		     ".long 1b - ., " #key " - .\n\t"			\
		     ".popsection\n\t" ::: "memory")
