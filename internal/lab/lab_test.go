// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	require.ErrorIs(t, err, ErrNotPrepared)

	files := map[string]string{}
	for _, name := range []string{"vmlinuz", "config", "vmlinux", "System.map"} {
		files[name] = filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(files[name], []byte(name), 0o644))
	}
	l := &Lab{Dir: dir, KernelRelease: "6.1.0-56-amd64", Version: "6.1.192-2",
		Vmlinuz: files["vmlinuz"], Config: files["config"], Vmlinux: files["vmlinux"],
		SystemMap: files["System.map"], HeadersDir: dir}
	require.NoError(t, l.writeManifest())
	got, err := Open(dir)
	require.NoError(t, err)
	require.Equal(t, l, got)
	require.Contains(t, got.String(), "6.1.0-56-amd64 (Debian 6.1.192-2)")

	require.NoError(t, os.Remove(files["vmlinux"]))
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrNotPrepared)
	require.ErrorContains(t, err, "vmlinux missing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), []byte("{"), 0o644))
	_, err = Open(dir)
	require.ErrorContains(t, err, "lab manifest")
}

func TestDirFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	require.Equal(t, "/x", DirFromEnv(env(map[string]string{"KLPKIT_LAB_DIR": "/x", "HOME": "/h"})))
	require.Equal(t, "/c/klpkit/lab", DirFromEnv(env(map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"})))
	require.Equal(t, "/h/.cache/klpkit/lab", DirFromEnv(env(map[string]string{"HOME": "/h"})))
	require.NotEmpty(t, DirFromEnv(env(nil)))
}

func TestCopySources(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, name := range []string{"Kbuild", "a.c", "a.o", "a.ko", ".a.o.cmd", "Module.symvers"} {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(name), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(src, "sub"), 0o755))
	require.NoError(t, copySources(src, dst))
	entries, err := os.ReadDir(dst)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"Kbuild", "a.c"}, names)
	require.Error(t, copySources(t.TempDir(), dst), "empty source dir")
}

func TestPrepareNeedsDir(t *testing.T) {
	_, err := Prepare(t.Context(), Config{})
	require.ErrorContains(t, err, "Dir is empty")
}
