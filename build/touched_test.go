// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/livepatch"
)

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, []byte(data), 0o644))
}

func TestTouchedObjects(t *testing.T) {
	tree := t.TempDir()
	writeFile(t, filepath.Join(tree, "fs/.a.o.cmd"), "cmd_fs/a.o := gcc -c -o fs/a.o fs/a.c\nsource_fs/a.o := fs/a.c\ndeps_fs/a.o := \\\n  include/linux/x.h \\\n  $(wildcard include/config/X) \\\n\n")
	writeFile(t, filepath.Join(tree, "mm/.b.o.cmd"), "cmd_mm/b.o := gcc -c -o mm/b.o mm/b.c\nsource_mm/b.o := mm/b.c\ndeps_mm/b.o := \\\n  include/linux/x.h \\\n  include/linux/y.h \\\n\n")

	_, _, err := touchedObjects(tree, []string{"kernel/c.c", "include/linux/x.h"}, false, -1)
	require.ErrorIs(t, err, ErrTreeNotBuilt, "a header change in a tree not fully built")
	assert.Contains(t, err.Error(), "include/linux/x.h changed")
	assert.Contains(t, err.Error(), "PartialHeaderUsers")

	objs, warnings, err := touchedObjects(tree, []string{"kernel/c.c", "include/linux/x.h", "Documentation/x.rst"}, true, -1)
	require.NoError(t, err)
	assert.Equal(t, []string{"kernel/c.o", "fs/a.o", "mm/b.o"}, objs)
	assert.Len(t, warnings, 2, "the ignored file, and the header users limited to built objects")
	assert.Contains(t, warnings[1], "only objects already built")
	objs, _, err = touchedObjects(tree, []string{"kernel/c.c"}, false, -1)
	require.NoError(t, err, "no header: nothing to find")
	assert.Equal(t, []string{"kernel/c.o"}, objs)

	writeFile(t, filepath.Join(tree, ".vmlinux.cmd"), "")
	_, warnings, err = touchedObjects(tree, []string{"include/linux/x.h"}, false, -1)
	require.NoError(t, err)
	assert.Empty(t, warnings, "a fully built tree has every user's record")

	_, _, err = touchedObjects(tree, []string{"include/linux/unused.h"}, false, -1)
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	assert.Contains(t, err.Error(), "no built object")

	for _, f := range []string{"arch/x86/lib/memset_64.S", "fs/Kconfig", "fs/Makefile"} {
		_, _, err = touchedObjects(tree, []string{f}, false, -1)
		require.ErrorIs(t, err, ErrUnsupportedPatch, f)
		assert.Contains(t, err.Error(), f)
	}
}

func TestOverlayLeavesTreeAlone(t *testing.T) {
	tree := fakeTree(t, "")
	ps, err := livepatch.Parse("fix.patch", []byte(fakePatch+"--- /dev/null\n+++ b/fs/new.h\n@@ -0,0 +1 @@\n+#define NEW 1\n"), nil)
	require.NoError(t, err)
	ov, err := makeOverlay(context.Background(), tree, filepath.Join(t.TempDir(), "ov"), ps, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"fs/a.c", "fs/new.h"}, ov.changed)
	assert.True(t, ov.has("fs/a.c"))
	patched, err := os.ReadFile(ov.path("fs/a.c"))
	require.NoError(t, err)
	assert.Contains(t, string(patched), "return 2;")
	orig, err := os.ReadFile(filepath.Join(tree, "fs/a.c"))
	require.NoError(t, err)
	assert.Contains(t, string(orig), "return 1;", "the tree is never written")
	assert.NoFileExists(t, filepath.Join(tree, "fs/new.h"))
}

func TestOverlayRejectsPatchThatDoesNotApply(t *testing.T) {
	tree := fakeTree(t, "")
	ps, err := livepatch.Parse("bad.patch", []byte("--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 7;\n+\treturn 2;\n }\n"), nil)
	require.NoError(t, err)
	_, err = makeOverlay(context.Background(), tree, filepath.Join(t.TempDir(), "ov"), ps, 0)
	require.ErrorIs(t, err, livepatch.ErrHunkFailed)
	assert.Contains(t, err.Error(), "fs/a.c")
}

func TestObjectCache(t *testing.T) {
	tree := fakeTree(t, "")
	c := &objectCache{dir: t.TempDir()}
	cmd := &cmdFile{Object: "fs/a.o", Source: "fs/a.c"}
	steps := [][]string{{"gcc", "-c", "-o", placeholderOut, "fs/a.c"}}
	k1 := c.key("6.1.0\x00cfg\x00gcc", tree, cmd, steps)
	require.NotEmpty(t, k1)
	assert.Equal(t, k1, c.key("6.1.0\x00cfg\x00gcc", tree, cmd, steps), "stable")
	assert.NotEqual(t, k1, c.key("6.1.1\x00cfg\x00gcc", tree, cmd, steps), "kernel in the key")
	assert.NotEqual(t, k1, c.key("6.1.0\x00cfg\x00gcc", tree, cmd, [][]string{{"gcc", "-O3"}}), "command in the key")

	obj := filepath.Join(t.TempDir(), "a.o")
	writeFile(t, obj, "object bytes")
	dst := filepath.Join(t.TempDir(), "got.o")
	assert.False(t, c.get(k1, dst))
	require.NoError(t, c.put(k1, obj))
	assert.True(t, c.get(k1, dst))
	got, _ := os.ReadFile(dst)
	assert.Equal(t, "object bytes", string(got))

	writeFile(t, filepath.Join(tree, "fs/a.c"), "int a(void) { return 3; }\n")
	assert.NotEqual(t, k1, c.key("6.1.0\x00cfg\x00gcc", tree, cmd, steps), "source contents in the key")
	cmd.Deps = []string{"include/missing.h"}
	assert.Empty(t, c.key("6.1.0\x00cfg\x00gcc", tree, cmd, steps), "unreadable dependency: not cached")
	assert.Empty(t, (&objectCache{}).key("x", tree, cmd, steps), "disabled")
}
