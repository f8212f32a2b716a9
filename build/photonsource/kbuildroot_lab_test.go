// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonsource

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/photon"
)

// TestMakeInRoot runs the tree's make inside a toolchain root (bookworm's
// gcc-12, the root the build tests provision, from the same cache), as the
// build user: the compiler make runs is the root's, and the object it
// makes says so.
func TestMakeInRoot(t *testing.T) {
	if os.Getenv("KLPKIT_VMTEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("needs Debian's archive (or its cached root): set KLPKIT_VMTEST=1 (CI runs it)")
	}
	if os.Geteuid() != 0 {
		needtest.Missing(t, "running inside a toolchain root needs root (mount namespace and chroot)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	root, _ := labtest.BookwormRoot(t, ctx, toolchain.DebianKernelBuild("gcc-12"))
	want, err := root.VersionLine(ctx, "gcc-12")
	require.NoError(t, err)

	// A tree the build user owns, in a directory it can reach.
	top, err := os.MkdirTemp("", "klpkit-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(top) })
	require.NoError(t, os.Chmod(top, 0o755))
	tree := filepath.Join(top, "tree")
	require.NoError(t, os.Mkdir(tree, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "Makefile"), []byte("all:\n"+
		"\t$(CC) --version | head -n 1 > out\n\tid -u >> out\n\tcat /"+toolchain.ListFile+" | head -n 1 >> out\n"+
		"\tprintf 'int f(void) { return 0; }\\n' > t.c\n\t$(CC) -O2 -c t.c -o t.o\n"), 0o644))
	u := &asuser.User{UID: 65534, GID: 65534}
	require.NoError(t, os.Chown(tree, int(u.UID), int(u.GID)))

	s := &Source{Kernel: photon.MustParseKernel("6.1.10-1.ph5"), Make: "/host/make", MakeArgs: []string{"CC=gcc-12"}, Jobs: 1, root: root, as: u}
	require.NoError(t, s.make(ctx, tree, "all"))
	out, err := os.ReadFile(filepath.Join(tree, "out"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, want, lines[0], "the root's gcc-12 ran")
	assert.Equal(t, "65534", lines[1], "as the build user")
	assert.True(t, strings.HasPrefix(lines[2], "# klpkit toolchain root"), "make ran chrooted in the root: / holds its list, %q", lines[2])
	ident, err := ccwrap.ELFIdent(filepath.Join(tree, "t.o"))
	require.NoError(t, err)
	assert.True(t, ccwrap.Same(want, ident, false), "t.o was built by %q, the root's gcc-12 is %q", ident, want)

	// A failing make in the root is a MakeError with its output.
	err = s.make(ctx, tree, "no-such-target")
	var me *MakeError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, me.Output, "no-such-target")
	assert.Contains(t, err.Error(), "in toolchain root "+root.Dir)
}
