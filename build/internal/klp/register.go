// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"fmt"
)

// The generated source serves both livepatch APIs; the kernel headers it
// is compiled against pick one through LINUX_VERSION_CODE:
//
//   - Linux 5.1 and later: module_init calls klp_enable_patch() alone, the
//     kernel frees a disabled patch by itself, module_exit has nothing to
//     do, and klp_patch has the replace field (atomic replace).
//   - Before 5.1 (Photon 3.0's 4.19): module_init registers the patch with
//     klp_register_patch(), then enables it; a disabled patch stays
//     registered, with its sysfs directory, until module_exit unregisters
//     it. klp_patch has no replace field: a replace module cannot exist.
//
// Callbacks (klp_object.callbacks) exist from 4.15.

const (
	// oldAPI is true for the headers of kernels before 5.1, newAPI for
	// the others.
	oldAPI = "LINUX_VERSION_CODE < KERNEL_VERSION(5, 1, 0)"
	newAPI = "LINUX_VERSION_CODE >= KERNEL_VERSION(5, 1, 0)"
	// noCallbacks is true for the headers of kernels before 4.15.
	noCallbacks = "LINUX_VERSION_CODE < KERNEL_VERSION(4, 15, 0)"
)

// writeGuards stops the compilation with a readable #error where the
// target kernel cannot do what m asks. The build pipeline refuses such
// builds before compiling anything; this is the last line of defence for
// other callers of Link.
func (m *Module) writeGuards(b *bytes.Buffer) {
	if !m.NoReplace {
		fmt.Fprintf(b, "#if %s\n#error %s\n#endif\n\n", oldAPI,
			cString(m.Name+": atomic replace needs Linux 5.1 or later; build a non-replace module (kpatch-build -R, --non-replace)"))
	}
	for _, o := range m.Objects {
		if !o.Callbacks.empty() {
			fmt.Fprintf(b, "#if %s\n#error %s\n#endif\n\n", noCallbacks,
				cString(m.Name+": klp callbacks need Linux 4.15 or later"))
			return
		}
	}
}

// writePatch writes the klp_patch; replace is set only where it exists.
func (m *Module) writePatch(b *bytes.Buffer) {
	b.WriteString("static struct klp_patch klpkit_patch = {\n\t.mod = THIS_MODULE,\n\t.objs = klpkit_objs,\n")
	fmt.Fprintf(b, "#if %s\n\t.replace = %t,\n#endif\n};\n\n", newAPI, !m.NoReplace)
}

// writeInitExit writes module_init and module_exit for both APIs.
func writeInitExit(b *bytes.Buffer) {
	fmt.Fprintf(b, "#if %s\n", oldAPI)
	b.WriteString(`/* Register, then enable; a patch that cannot be enabled is unregistered. */
static int __init klpkit_init(void)
{
	int ret;

	ret = klp_register_patch(&klpkit_patch);
	if (ret)
		return ret;
	ret = klp_enable_patch(&klpkit_patch);
	if (ret)
		WARN_ON(klp_unregister_patch(&klpkit_patch));
	return ret;
}

/* The patch is disabled by now (an enabled one pins this module). */
static void __exit klpkit_exit(void)
{
	WARN_ON(klp_unregister_patch(&klpkit_patch));
}
#else
static int __init klpkit_init(void)
{
	return klp_enable_patch(&klpkit_patch);
}

static void __exit klpkit_exit(void)
{
}
#endif

module_init(klpkit_init);
module_exit(klpkit_exit);
`)
}
