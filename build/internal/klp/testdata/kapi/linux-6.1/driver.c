/*
 * A fake livepatch core of Linux 5.1 and later for klpkit's tests: there
 * is only klp_enable_patch, which logs its call and the patch's replace
 * flag on stdout. main runs the module's init and then its exit (after a
 * disable the kernel frees the patch itself; exit has nothing to do).
 *
 * Usage: driver [fail-enable]. The test module defines klpkit_new_0_0 and
 * klpkit_cb_1_pre_patch as externs, so they are defined here.
 */
#include <stdio.h>
#include <string.h>
#include <linux/livepatch.h>

#define STUB_EINVAL 22

struct module stub_this_module = { "livepatch_test" };

static int fail_enable;

void stub_warn(const char *file, int line)
{
	printf("WARN at %s:%d\n", file, line);
}

void klpkit_new_0_0(void)
{
}

int klpkit_cb_1_pre_patch(struct klp_object *obj)
{
	(void)obj;
	return 0;
}

int klp_enable_patch(struct klp_patch *patch)
{
	printf("enable %s funcs[0]=%s objs[1]=%s pre_patch=%s replace=%d\n", patch->mod->name,
	       patch->objs[0].funcs[0].old_name, patch->objs[1].name,
	       patch->objs[1].callbacks.pre_patch ? "set" : "none", patch->replace);
	if (fail_enable)
		return -STUB_EINVAL;
	patch->enabled = true;
	return 0;
}

int stub_module_init(void);
void stub_module_exit(void);

int main(int argc, char **argv)
{
	int ret;

	fail_enable = argc > 1 && strcmp(argv[1], "fail-enable") == 0;
	ret = stub_module_init();
	printf("init returned %d\n", ret);
	if (ret == 0) {
		stub_module_exit();
		printf("exit returned\n");
	}
	return 0;
}
