/*
 * A stand-in for a livepatch module, for kmod's ELF parsing tests. It has
 * what kmod reads from a real .ko: the .modinfo strings modpost and the
 * MODULE_* macros emit, and a .gnu.linkonce.this_module section holding
 * struct module, whose name field is at offset 24 on 64-bit kernels.
 *
 * The tests compile it with: gcc -c -O2 -o livepatch-fixture.ko livepatch-fixture.c
 * (FIXTURE_NAME and FIXTURE_VERMAGIC can be overridden with -D).
 */
#ifndef FIXTURE_NAME
#define FIXTURE_NAME "livepatch_fixture"
#endif
#ifndef FIXTURE_VERMAGIC
#define FIXTURE_VERMAGIC "6.1.0-56-amd64 SMP preempt mod_unload modversions "
#endif

#define MODINFO(tag, info) \
	static const char __modinfo_##tag[] __attribute__((section(".modinfo"), used, aligned(1))) = #tag "=" info

MODINFO(livepatch, "Y");
MODINFO(license, "GPL");
MODINFO(description, "kmod test fixture");
MODINFO(srcversion, "0123456789ABCDEF0123456");
MODINFO(depends, "");
MODINFO(retpoline, "Y");
MODINFO(name, FIXTURE_NAME);
MODINFO(vermagic, FIXTURE_VERMAGIC);

struct module_head {
	int state;
	void *list_next, *list_prev;
	char name[56];
	char rest[1024];
};

struct module_head __this_module __attribute__((section(".gnu.linkonce.this_module"))) = {
	.name = FIXTURE_NAME,
};

int livepatch_cmdline_proc_show(void)
{
	return 0;
}
