// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
)

// altSource has a changed function f with an alternative (4.19's 13-byte
// alt_instr) whose replacement calls hidden_helper, which vmlinux does not
// export: a klp relocation in code the kernel copies at module load.
func altSource(format string) string {
	return `extern void exported_helper(void);
extern void hidden_helper(void);
int printk(const char *, ...);
int f(int x)
{
	asm volatile("661:\n\tcall exported_helper\n662:\n"
		     ".pushsection .altinstructions,\"a\"\n"
		     " .long 661b - .\n .long 6641f - .\n .word 0x75\n"
		     " .byte 662b - 661b\n .byte 6642f - 6641f\n .byte 0\n"
		     ".popsection\n"
		     ".pushsection .altinstr_replacement,\"ax\"\n"
		     "6641:\n\tcall hidden_helper\n6642:\n"
		     ".popsection\n" ::: "memory");
	return printk("` + format + `", x);
}
`
}

// preparedAltUnit diffs altSource before and after a change and prepares
// the patch object for a kernel of the given release.
func preparedAltUnit(t *testing.T, release string) error {
	t.Helper()
	dir := t.TempDir()
	u := &unit{obj: "arch/x86/x.o", target: "vmlinux", orig: filepath.Join(dir, "orig.o"), patched: filepath.Join(dir, "patched.o")}
	compileKernelStyle(t, altSource(`%d\n`), u.orig)
	compileKernelStyle(t, altSource(`%d!\n`), u.patched)
	sysmap := filepath.Join(dir, "System.map")
	require.NoError(t, os.WriteFile(sysmap, []byte("ffffffff81000000 T f\nffffffff81000100 T hidden_helper\nffffffff81000200 T exported_helper\nffffffff81000300 T printk\n"), 0o644))
	r := &runner{objs: []*unit{u}, work: t.TempDir(), tree: Tree{Release: release, SystemMap: sysmap},
		symvers: symvers{"printk": "vmlinux", "exported_helper": "vmlinux", "__fentry__": "vmlinux"}, log: discardLogger()}
	r.version, r.versionKnown = targetVersion(&r.tree)
	require.NoError(t, r.diff(context.Background()))
	_, _, _, err := r.preparePatchObject(0, u)
	return err
}

// TestArchPatchingRefusedBefore58: before 5.8 the vmlinux klp relocation
// in the replacement code would be written after the kernel copied that
// code into f; the build stops and names f. From 5.8 it is written first.
func TestArchPatchingRefusedBefore58(t *testing.T) {
	err := preparedAltUnit(t, "4.19.325-1.ph3")
	require.Error(t, err)
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	require.ErrorIs(t, err, klp.ErrArchKlpRelocation)
	var ae *klp.ArchRelocationError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, klp.ArchRelocationError{Function: "f", Section: ".altinstructions", Replacement: true, Symbol: ".klp.sym.vmlinux.hidden_helper,0"}, *ae)
	assert.True(t, strings.HasPrefix(err.Error(), "unsupported change for kernel 4.19.325-1.ph3: function f: the replacement code of an alternative refers to .klp.sym.vmlinux.hidden_helper,0"), err.Error())

	require.NoError(t, preparedAltUnit(t, "5.8.0"))
	require.NoError(t, preparedAltUnit(t, "6.1.0-56-amd64"))
}

// TestSymbolNameLimit: before 6.1 the livepatch core looks up names of at
// most 127 characters; a longer changed function is refused there and
// accepted for 6.1.
func TestSymbolNameLimit(t *testing.T) {
	long := "f_" + strings.Repeat("x", 126) // 128 characters
	src := func(format string) string {
		return "int printk(const char *, ...);\nint " + long + "(int x)\n{\n\treturn printk(\"" + format + "\", x);\n}\n"
	}
	prepare := func(release string) error {
		dir := t.TempDir()
		u := &unit{obj: "lib/x.o", target: "vmlinux", orig: filepath.Join(dir, "orig.o"), patched: filepath.Join(dir, "patched.o")}
		compileKernelStyle(t, src(`%d\n`), u.orig)
		compileKernelStyle(t, src(`%d!\n`), u.patched)
		sysmap := filepath.Join(dir, "System.map")
		require.NoError(t, os.WriteFile(sysmap, []byte("ffffffff81000000 T "+long+"\n"), 0o644))
		r := &runner{objs: []*unit{u}, work: t.TempDir(), tree: Tree{Release: release, SystemMap: sysmap},
			symvers: symvers{"printk": "vmlinux", "__fentry__": "vmlinux"}, log: discardLogger()}
		r.version, r.versionKnown = targetVersion(&r.tree)
		require.NoError(t, r.diff(context.Background()))
		_, _, _, err := r.preparePatchObject(0, u)
		return err
	}
	err := prepare("5.10.118-2.ph4")
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	assert.Contains(t, err.Error(), "symbol "+long+" is 128 characters long; the kernel's livepatch core looks up at most 127 (KSYM_NAME_LEN)")
	require.NoError(t, prepare("6.1.0-56-amd64"))
}
