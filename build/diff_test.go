// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/internal/needtest"
)

// compileKernelStyle compiles C source the way kbuild compiles kernel
// code, as far as the differ cares: fentry calls and one section per
// function and object.
func compileKernelStyle(t *testing.T, src, out string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		needtest.Missing(t, "needs gcc")
	}
	c := filepath.Join(t.TempDir(), "x.c")
	require.NoError(t, os.WriteFile(c, []byte(src), 0o644))
	cmd := exec.Command("gcc", "-O2", "-pg", "-mfentry", "-mrecord-mcount", "-fno-PIE", "-ffunction-sections", "-fdata-sections", "-c", "-o", out, c)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
}

func diffUnit(t *testing.T, orig, patched string) (*runner, error) {
	t.Helper()
	dir := t.TempDir()
	u := &unit{obj: "lib/x.o", target: "vmlinux", orig: filepath.Join(dir, "orig.o"), patched: filepath.Join(dir, "patched.o")}
	compileKernelStyle(t, orig, u.orig)
	compileKernelStyle(t, patched, u.patched)
	r := &runner{objs: []*unit{u}, symvers: symvers{"printk": "vmlinux"}}
	r.log = discardLogger()
	return r, r.diff(context.Background())
}

func TestDiffStage(t *testing.T) {
	const orig = "int printk(const char *, ...);\nint f(int x)\n{\n\treturn printk(\"%d\\n\", x);\n}\n"
	r, err := diffUnit(t, orig, "int printk(const char *, ...);\nint f(int x)\n{\n\treturn printk(\"%d!\\n\", x);\n}\n")
	require.NoError(t, err)
	require.Len(t, r.res.Objects, 1)
	assert.Equal(t, []string{"f"}, r.res.Objects[0].Changed)

	_, err = diffUnit(t, orig, orig)
	require.ErrorIs(t, err, ErrNoChanges)
}

func TestDiffStageRefusal(t *testing.T) {
	// The change lands in .init.text, which a livepatch cannot carry.
	const init = "int printk(const char *, ...);\n__attribute__((section(\".init.text\"))) int setup(int x)\n{\n\treturn printk(\"%d\\n\", x + 1);\n}\n"
	_, err := diffUnit(t, init, "int printk(const char *, ...);\n__attribute__((section(\".init.text\"))) int setup(int x)\n{\n\treturn printk(\"%d\\n\", x * 3);\n}\n")
	require.Error(t, err)
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	require.ErrorIs(t, err, objdiff.ErrUnsupportedChange)
	var oe *ObjectError
	require.True(t, errors.As(err, &oe))
	assert.Equal(t, "lib/x.o", oe.Object)
	assert.Equal(t, StageDiff, oe.Stage)
}
