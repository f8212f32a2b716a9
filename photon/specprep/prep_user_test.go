// SPDX-License-Identifier: Apache-2.0

//go:build linux

package specprep

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/needtest"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it checks that patch and xz do not run as root")
	}
}

func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		needtest.Missing(t, "needs %s (%s)", name, pkg)
	}
	return p
}

// openScript writes an executable script where every user may run it
// (t.TempDir's parent is private).
func openScript(t *testing.T, name, body string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "klpkit-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o755))
	return p
}

func ownerUID(t *testing.T, p string) uint32 {
	t.Helper()
	st, err := os.Lstat(p)
	require.NoError(t, err)
	return st.Sys().(*syscall.Stat_t).Uid
}

// userTar is a tree with a file and a directory only their owner may
// read, beside the file the patch changes.
func userTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		mode int64
		body string
	}{
		{"linux-1.0/", 0o755, ""},
		{"linux-1.0/fs/", 0o755, ""},
		{"linux-1.0/fs/a.c", 0o644, "int a(void)\n{\n\treturn 1;\n}\n"},
		{"linux-1.0/fs/old.c", 0o644, "int old;\n"},
		{"linux-1.0/private/", 0o700, ""},
		{"linux-1.0/private/key", 0o600, "secret\n"},
	} {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

const userPatch = `--- a/fs/a.c
+++ b/fs/a.c
@@ -1,4 +1,4 @@
 int a(void)
 {
-	return 1;
+	return 2;
 }
--- /dev/null
+++ b/fs/new/b.c
@@ -0,0 +1 @@
+int b;
--- a/fs/old.c
+++ /dev/null
@@ -1 +0,0 @@
-int old;
`

// prepDirs makes SOURCES (with the tarball and the patch) and BUILD
// under t.TempDir, whose parent only root may pass.
func prepDirs(t *testing.T) (sources, build string) {
	t.Helper()
	parent := t.TempDir()
	sources, build = filepath.Join(parent, "SOURCES"), filepath.Join(parent, "BUILD")
	require.NoError(t, os.MkdirAll(sources, 0o755))
	require.NoError(t, os.MkdirAll(build, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sources, "linux-1.0.tar"), userTar(t), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sources, "fix.patch"), []byte(userPatch), 0o644))
	return sources, build
}

var userSpec = &Spec{File: "t.spec", Name: "linux", Version: "1.0", Sources: map[int]string{0: "linux-1.0.tar"},
	Patches: map[int]string{0: "fix.patch"}, Prep: []SpecLine{{Line: 4, Text: "%setup -q"}, {Line: 5, Text: "%patch0 -p1"}}}

// As root, GNU patch runs as the build user, in a tree behind a
// directory only root may pass: the file it creates is the user's, and
// the directories it writes in were given to the user with their modes
// unchanged; files keep their owner and mode, so one only root could
// read stays so. It ran as root.
func TestPrepPatchRunsAsBuildUser(t *testing.T) {
	requireRoot(t)
	requireTool(t, "patch", "GNU patch")
	sources, build := prepDirs(t)
	err := Prep(context.Background(), userSpec, PrepOptions{SourceDir: sources, BuildDir: build,
		BuildUser: &klpkit.BuildUser{UID: 4242, GID: 4243}})
	require.NoError(t, err)
	tree := filepath.Join(build, "linux-1.0")
	data, err := os.ReadFile(filepath.Join(tree, "fs/a.c"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "return 2;")
	assert.NoFileExists(t, filepath.Join(tree, "fs/old.c"))
	assert.Equal(t, uint32(4242), ownerUID(t, filepath.Join(tree, "fs/new/b.c")), "patch ran as the build user")
	for _, d := range []string{"", "fs", "private"} {
		assert.Equal(t, uint32(4242), ownerUID(t, filepath.Join(tree, d)), "directory %q given to the user", d)
	}
	st, err := os.Stat(filepath.Join(tree, "private"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "modes unchanged")
	key := filepath.Join(tree, "private/key")
	st, err = os.Stat(key)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, uint32(0), ownerUID(t, key), "files keep their owner")
	left, err := filepath.Glob(filepath.Join(build, ".klpkit-patch-tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "patch's temporary directory is gone")
}

// Who runs patch and xz: the build user given, nobody by default for a
// build directory root owns, its owner otherwise, root when asked; root
// as the build user is refused.
func TestPrepUser(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	u, err := prepUser(&PrepOptions{BuildDir: dir})
	require.NoError(t, err)
	assert.Equal(t, asuser.Nobody(), u)
	u, err = prepUser(&PrepOptions{BuildDir: dir, BuildUser: &klpkit.BuildUser{UID: 7, GID: 8}})
	require.NoError(t, err)
	assert.Equal(t, &asuser.User{UID: 7, GID: 8}, u)
	u, err = prepUser(&PrepOptions{BuildDir: dir, BuildAsRoot: true})
	require.NoError(t, err)
	assert.Nil(t, u)
	_, err = prepUser(&PrepOptions{BuildDir: dir, BuildUser: &klpkit.BuildUser{UID: 0, GID: 8}})
	require.ErrorContains(t, err, "BuildAsRoot")
	require.NoError(t, os.Chown(dir, 4242, 4243))
	u, err = prepUser(&PrepOptions{BuildDir: dir})
	require.NoError(t, err)
	assert.Equal(t, &asuser.User{UID: 4242, GID: 4243}, u, "the build directory's owner")
}

// The uid patch and xz run as, seen through stand-ins that print it and
// fail: the build user's (with a $TMPDIR it may write), or root's with
// BuildAsRoot.
func TestPrepProgramsRunAs(t *testing.T) {
	requireRoot(t)
	xzPath := requireTool(t, "xz", "xz-utils")
	// GNU patch copies input it cannot seek to $TMPDIR: the build user's
	// must be one it may write.
	idPatch := openScript(t, "patch", "#!/bin/sh\n[ \"$(id -u)\" = 0 ] || touch \"$TMPDIR/probe\" || exit 2\necho \"uid=$(id -u)\"\nexit 1\n")
	idXZ := openScript(t, "xz", "#!/bin/sh\necho \"uid=$(id -u)\" >&2\nexit 1\n")
	for _, tc := range []struct {
		name    string
		asRoot  bool
		wantUID string
	}{
		{name: "build user", wantUID: "uid=4242"},
		{name: "as root", asRoot: true, wantUID: "uid=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := func(sources, build string) PrepOptions {
				return PrepOptions{SourceDir: sources, BuildDir: build, PatchCommand: idPatch, XZCommand: idXZ,
					BuildUser: &klpkit.BuildUser{UID: 4242, GID: 4243}, BuildAsRoot: tc.asRoot}
			}
			sources, build := prepDirs(t)
			err := Prep(context.Background(), userSpec, opts(sources, build))
			var pe *PatchError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.wantUID, pe.Output, "patch")

			xzSpec := *userSpec
			xzSpec.Sources = map[int]string{0: "linux-1.0.tar.xz"}
			require.NoError(t, os.WriteFile(filepath.Join(sources, "linux-1.0.tar.xz"), xzCompress(t, xzPath, userTar(t)), 0o644))
			err = Prep(context.Background(), &xzSpec, opts(sources, build))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantUID, "xz")
		})
	}
}
