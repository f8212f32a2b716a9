// SPDX-License-Identifier: Apache-2.0

package klp_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/needtest"
)

// The generated source against stand-in headers of both livepatch APIs
// (testdata/kapi, see its README): it compiles for each, calls what each
// API wants, and refuses a replace module on a kernel before 5.1.

// kapi is one stand-in kernel API: its include directories and the C
// standard its kernels compile with.
type kapi struct {
	name, std string
}

var (
	api419 = kapi{"linux-4.19", "gnu89"}
	api61  = kapi{"linux-6.1", "gnu11"}
)

func (k kapi) includes() []string {
	return []string{"-I", filepath.Join("testdata", "kapi", k.name, "include"), "-I", filepath.Join("testdata", "kapi", "common", "include")}
}

// kernelCFlags are the warnings the kernel's own builds treat as errors,
// plus -Werror so that any warning fails the test.
var kernelCFlags = []string{"-Wall", "-Werror", "-Wdeclaration-after-statement", "-Wstrict-prototypes", "-Wimplicit-function-declaration"}

func findGCC(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		needtest.Missing(t, "needs gcc (Debian package gcc) to compile the generated module source")
	}
	return gcc
}

// kapiModule patches one vmlinux function and has a pre_patch callback on
// a module target: the names testdata/kapi/*/driver.c defines.
func kapiModule(noReplace bool) *klp.Module {
	return &klp.Module{
		Name: "livepatch-test", NoReplace: noReplace, Description: "stand-in API test",
		Objects: []klp.Object{
			{Name: "vmlinux", Funcs: []klp.Func{{OldName: "cmdline_proc_show", NewSymbol: "klpkit_new_0_0"}}},
			{Name: "binfmt_misc", Callbacks: klp.Callbacks{PrePatch: "klpkit_cb_1_pre_patch"}},
		},
	}
}

func writeSource(t *testing.T, m *klp.Module) string {
	t.Helper()
	src, err := m.Source()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "klpkit-hook.c")
	require.NoError(t, os.WriteFile(path, src, 0o644))
	return path
}

// gccModule runs gcc on the generated source with only the stand-in
// headers (-nostdinc: the host's own <linux/version.h> must not leak in).
func gccModule(t *testing.T, api kapi, src string, args ...string) (string, error) {
	t.Helper()
	return gccWith(t, api.std, api.includes(), src, args...)
}

func gccWith(t *testing.T, std string, includes []string, src string, args ...string) (string, error) {
	t.Helper()
	argv := append([]string{"-std=" + std, "-nostdinc"}, kernelCFlags...)
	argv = append(argv, includes...)
	argv = append(argv, args...)
	out, err := exec.Command(findGCC(t), append(argv, src)...).CombinedOutput()
	return string(out), err
}

func TestSourceCompilesForBothAPIs(t *testing.T) {
	for _, tc := range []struct {
		api       kapi
		noReplace bool
	}{{api419, true}, {api61, true}, {api61, false}} {
		out, err := gccModule(t, tc.api, writeSource(t, kapiModule(tc.noReplace)), "-fsyntax-only")
		assert.NoError(t, err, "%s, NoReplace %v:\n%s", tc.api.name, tc.noReplace, out)
	}
}

// TestReplaceRefusedBefore51: against 4.19 headers a replace module stops
// at the #error, which names the module and what to do.
func TestReplaceRefusedBefore51(t *testing.T) {
	out, err := gccModule(t, api419, writeSource(t, kapiModule(false)), "-fsyntax-only")
	require.Error(t, err)
	assert.Contains(t, out, `#error "livepatch-test: atomic replace needs Linux 5.1 or later; build a non-replace module (kpatch-build -R, --non-replace)"`)
}

// TestCallbacksRefusedBefore415: the callbacks guard fires on headers of
// kernels older than 4.15 (the 4.19 stand-in under a 4.14 version.h).
func TestCallbacksRefusedBefore415(t *testing.T) {
	old := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(old, "linux"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(old, "linux", "version.h"),
		[]byte("#define LINUX_VERSION_CODE 265728\n#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))\n"), 0o644)) // 4.14.0
	out, err := gccWith(t, "gnu89", append([]string{"-I", old}, api419.includes()...), writeSource(t, kapiModule(true)), "-fsyntax-only")
	require.Error(t, err)
	assert.Contains(t, out, `#error "livepatch-test: klp callbacks need Linux 4.15 or later"`)
	assert.NotContains(t, out, "atomic replace", "a non-replace module")
}

// functionBody returns the preprocessed body of the C function name.
func functionBody(t *testing.T, src, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\b` + name + `\(void\)\s*\{(.*?)\n\}`).FindStringSubmatch(src)
	require.NotNil(t, m, "no function %s in\n%s", name, src)
	return m[1]
}

// TestPreprocessedAPIs reads what the compiler sees for each API: before
// 5.1 init registers then enables (unregistering on failure) and exit
// unregisters, with no replace field; from 5.1 init only enables, exit is
// empty and replace is set.
func TestPreprocessedAPIs(t *testing.T) {
	old, err := gccModule(t, api419, writeSource(t, kapiModule(true)), "-E", "-P")
	require.NoError(t, err, old)
	init := functionBody(t, old, "klpkit_init")
	reg, enable, unreg := strings.Index(init, "klp_register_patch(&klpkit_patch)"), strings.Index(init, "klp_enable_patch(&klpkit_patch)"), strings.Index(init, "klp_unregister_patch(&klpkit_patch)")
	assert.True(t, reg >= 0 && enable > reg && unreg > enable, "4.19 init registers, enables, unregisters on failure:\n%s", init)
	assert.Contains(t, functionBody(t, old, "klpkit_exit"), "klp_unregister_patch(&klpkit_patch)")
	assert.NotContains(t, old, "replace")

	cur, err := gccModule(t, api61, writeSource(t, kapiModule(false)), "-E", "-P")
	require.NoError(t, err, cur)
	assert.Equal(t, "return klp_enable_patch(&klpkit_patch);", strings.TrimSpace(functionBody(t, cur, "klpkit_init")))
	assert.Empty(t, strings.TrimSpace(functionBody(t, cur, "klpkit_exit")))
	assert.Contains(t, cur, ".replace = 1,")
	assert.NotContains(t, cur, "klp_register_patch")
	assert.NotContains(t, cur, "klp_unregister_patch")
}

// TestInitExitRun links the module source with a fake livepatch core
// (testdata/kapi/*/driver.c) and runs its init and exit: the calls, their
// order and the error path are those each kernel expects.
func TestInitExitRun(t *testing.T) {
	for _, tc := range []struct {
		api               kapi
		noReplace         bool
		ok, failingEnable string
	}{
		{api419, true,
			"register livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set\nenable\ninit returned 0\nunregister\nexit returned\nstill registered: no\n",
			"register livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set\nenable\nunregister\ninit returned -22\nstill registered: no\n"},
		{api61, false,
			"enable livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set replace=1\ninit returned 0\nexit returned\n",
			"enable livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set replace=1\ninit returned -22\n"},
		{api61, true,
			"enable livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set replace=0\ninit returned 0\nexit returned\n",
			"enable livepatch_test funcs[0]=cmdline_proc_show objs[1]=binfmt_misc pre_patch=set replace=0\ninit returned -22\n"},
	} {
		t.Run(fmt.Sprintf("%s/NoReplace=%v", tc.api.name, tc.noReplace), func(t *testing.T) {
			gcc, dir := findGCC(t), t.TempDir()
			obj := filepath.Join(dir, "hook.o")
			out, err := gccModule(t, tc.api, writeSource(t, kapiModule(tc.noReplace)), "-c", "-o", obj)
			require.NoError(t, err, out)
			bin := filepath.Join(dir, "driver")
			argv := append([]string{"-std=gnu11", "-Wall", "-Werror", "-o", bin}, tc.api.includes()...)
			argv = append(argv, filepath.Join("testdata", "kapi", tc.api.name, "driver.c"), obj)
			b, err := exec.Command(gcc, argv...).CombinedOutput()
			require.NoError(t, err, "%s", b)

			b, err = exec.Command(bin).CombinedOutput()
			require.NoError(t, err, "%s", b)
			assert.Equal(t, tc.ok, string(b))
			b, err = exec.Command(bin, "fail-enable").CombinedOutput()
			require.NoError(t, err, "%s", b)
			assert.Equal(t, tc.failingEnable, string(b))
		})
	}
}
