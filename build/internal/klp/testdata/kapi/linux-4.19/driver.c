/*
 * A fake livepatch core of Linux 4.15-5.0 for klpkit's tests. It keeps the
 * kernel's rules (enable and unregister need a registered patch; an
 * enabled patch cannot be unregistered) and logs every call on stdout.
 * main runs the module's init, then, as "echo 0 > enabled" and rmmod
 * would, disables the patch and runs the module's exit.
 *
 * Usage: driver [fail-enable]. The test module defines klpkit_new_0_0 and
 * klpkit_cb_1_pre_patch as externs, so they are defined here.
 */
#include <stdio.h>
#include <string.h>
#include <linux/livepatch.h>

#define STUB_EINVAL 22
#define STUB_EBUSY 16

struct module stub_this_module = { "livepatch_test" };

static struct klp_patch *registered;
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

int klp_register_patch(struct klp_patch *patch)
{
	printf("register %s funcs[0]=%s objs[1]=%s pre_patch=%s\n", patch->mod->name,
	       patch->objs[0].funcs[0].old_name, patch->objs[1].name,
	       patch->objs[1].callbacks.pre_patch ? "set" : "none");
	if (registered)
		return -STUB_EINVAL;
	registered = patch;
	return 0;
}

int klp_enable_patch(struct klp_patch *patch)
{
	printf("enable\n");
	if (patch != registered || patch->enabled)
		return -STUB_EINVAL;
	if (fail_enable)
		return -STUB_EINVAL;
	patch->enabled = true;
	return 0;
}

int klp_disable_patch(struct klp_patch *patch)
{
	printf("disable\n");
	if (patch != registered || !patch->enabled)
		return -STUB_EINVAL;
	patch->enabled = false;
	return 0;
}

int klp_unregister_patch(struct klp_patch *patch)
{
	printf("unregister\n");
	if (patch != registered)
		return -STUB_EINVAL;
	if (patch->enabled)
		return -STUB_EBUSY;
	registered = NULL;
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
		/* echo 0 > /sys/kernel/livepatch/<patch>/enabled */
		registered->enabled = false;
		stub_module_exit();
		printf("exit returned\n");
	}
	printf("still registered: %s\n", registered ? "yes" : "no");
	return 0;
}
