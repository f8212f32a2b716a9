// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootLookPath(t *testing.T) {
	d := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(d, "usr/bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(d, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "usr/bin/x86_64-linux-gnu-gcc-10"), []byte("elf"), 0o755))
	require.NoError(t, os.Symlink("x86_64-linux-gnu-gcc-10", filepath.Join(d, "usr/bin/gcc-10")))
	require.NoError(t, os.WriteFile(filepath.Join(d, "bin/notexec"), []byte("x"), 0o644))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(d, "bin/outside")))
	r := &Root{Dir: d}

	p, err := r.lookPath("gcc-10")
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/gcc-10", p)
	p, err = r.lookPath("/usr/bin/gcc-10")
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/gcc-10", p)
	for _, name := range []string{"gcc-12", "notexec", "outside", "bin/gcc-10"} {
		_, err := r.lookPath(name)
		assert.Error(t, err, name)
	}
	cmd, err := r.Command(t.Context(), "gcc-10", "--version")
	require.NoError(t, err)
	assert.Equal(t, []string{"gcc-10", "--version"}, cmd.Args)
	assert.Equal(t, "/usr/bin/gcc-10", cmd.Path)
	assert.Contains(t, cmd.Env, "PATH="+rootPath)
}

func TestRootMountPoint(t *testing.T) {
	d := t.TempDir()
	require.NoError(t, os.Symlink("usr", filepath.Join(d, "work")))
	r := &Root{Dir: d}
	p, err := r.mountPoint("/src/linux", true)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(d, "src/linux"), p)
	assert.DirExists(t, p)
	p, err = r.mountPoint("/etc/resolv.conf", false)
	require.NoError(t, err)
	assert.FileExists(t, p)
	_, err = r.mountPoint("/work/tree", true)
	assert.ErrorContains(t, err, "work is a symlink")
	_, err = r.mountPoint("relative", true)
	assert.ErrorContains(t, err, "absolute")
	_, err = r.mountPoint("/", true)
	assert.ErrorContains(t, err, "other than /")
}

func TestMakeAlternatives(t *testing.T) {
	d := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(d, "usr/bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "usr/bin/mawk"), []byte("elf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "usr/bin/bison.yacc"), []byte("sh"), 0o755))
	require.NoError(t, os.Symlink("mawk", filepath.Join(d, "usr/bin/nawk"))) // a package's own link stays
	root, err := os.OpenRoot(d)
	require.NoError(t, err)
	defer root.Close()
	require.NoError(t, makeAlternatives(root))
	for link, want := range map[string]string{"usr/bin/awk": "mawk", "usr/bin/nawk": "mawk", "usr/bin/yacc": "bison.yacc"} {
		got, err := os.Readlink(filepath.Join(d, link))
		require.NoError(t, err, link)
		assert.Equal(t, want, got, link)
	}

	// gawk outranks mawk, as in Debian.
	require.NoError(t, os.WriteFile(filepath.Join(d, "usr/bin/gawk"), []byte("elf"), 0o755))
	require.NoError(t, os.Remove(filepath.Join(d, "usr/bin/awk")))
	require.NoError(t, makeAlternatives(root))
	got, err := os.Readlink(filepath.Join(d, "usr/bin/awk"))
	require.NoError(t, err)
	assert.Equal(t, "gawk", got)
}
