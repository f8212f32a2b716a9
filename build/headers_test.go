// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const headerPatch = "--- a/fs/a.h\n+++ b/fs/a.h\n@@ -1 +1 @@\n-#define A 1\n+#define A 2\n"

// fullBuildTree is a tree whose BuildAll records, as a full kbuild run
// would, the users of fs/a.h and vmlinux's link.
type fullBuildTree struct {
	tree  *Tree
	built bool
}

func (f *fullBuildTree) Tree(ctx context.Context) (*Tree, error) { return f.tree, nil }

func (f *fullBuildTree) Capabilities() Capabilities { return Capabilities{BuildAll: f.BuildAll} }

func (f *fullBuildTree) BuildAll(ctx context.Context) error {
	f.built = true
	dir := f.tree.Dir
	return errors.Join(
		os.WriteFile(filepath.Join(dir, "fs/.a.o.cmd"), []byte(aCmd), 0o644),
		os.WriteFile(filepath.Join(dir, ".vmlinux.cmd"), nil, 0o644))
}

// aCmd is kbuild's record of fs/a.o, which includes fs/a.h; its compiler
// fails, which shows the object was picked.
const aCmd = "cmd_fs/a.o := false -c -o fs/a.o fs/a.c\nsource_fs/a.o := fs/a.c\ndeps_fs/a.o := \\\n  fs/a.h \\\n\n"

// A header change needs every object that includes the header: a tree not
// fully built is refused unless partial users are accepted, and a source
// that can build itself in full is asked to.
func TestRunHeaderChangeNeedsFullBuild(t *testing.T) {
	newTree := func(t *testing.T) *Tree {
		dir := openFakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
		writeFile(t, filepath.Join(dir, "fs/a.h"), "#define A 1\n")
		return &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}}
	}
	run := func(t *testing.T, src Source, partial bool) error {
		_, err := Run(context.Background(), Options{Source: src, Patches: []string{writePatch(t, headerPatch)},
			OutputDir: t.TempDir(), SkipCompilerCheck: true, PartialHeaderUsers: partial})
		return err
	}

	err := run(t, newTree(t), false)
	require.ErrorIs(t, err, ErrTreeNotBuilt)
	assert.Contains(t, err.Error(), "fs/a.h changed")

	tree := newTree(t)
	writeFile(t, filepath.Join(tree.Dir, "fs/.a.o.cmd"), aCmd)
	err = run(t, tree, true)
	require.Error(t, err)
	var oe *ObjectError
	require.True(t, errors.As(err, &oe), "partial users accepted: fs/a.o is compiled (and fails): %v", err)
	assert.Equal(t, "fs/a.o", oe.Object)

	fb := &fullBuildTree{tree: newTree(t)}
	err = run(t, fb, false)
	assert.True(t, fb.built, "the source was built in full")
	require.True(t, errors.As(err, &oe), "after the full build fs/a.o is found and compiled: %v", err)
	assert.Equal(t, "fs/a.o", oe.Object)
}
