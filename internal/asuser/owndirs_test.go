// SPDX-License-Identifier: Apache-2.0

//go:build linux

package asuser

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

// OwnDirs gives the user every directory below dir and nothing else: not
// a file, not a link, and not a directory outside that a link leads to.
func TestOwnDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it changes owners")
	}
	u := &User{UID: 4242, GID: 4243}
	top := t.TempDir()
	dir, outside := filepath.Join(top, "tree"), filepath.Join(top, "outside")
	for _, d := range []string{"a/b", "private"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	require.NoError(t, os.Chmod(filepath.Join(dir, "private"), 0o700))
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/f"), nil, 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "a/link")))
	require.NoError(t, OwnDirs(t.Context(), u, dir))

	owner := func(p string) uint32 {
		st, err := os.Lstat(p)
		require.NoError(t, err)
		return st.Sys().(*syscall.Stat_t).Uid
	}
	for _, d := range []string{"", "a", "a/b", "private"} {
		assert.Equal(t, uint32(4242), owner(filepath.Join(dir, d)), "directory %q", d)
	}
	for _, p := range []string{filepath.Join(dir, "a/f"), filepath.Join(dir, "a/link"), outside} {
		assert.Equal(t, uint32(0), owner(p), p)
	}
	st, err := os.Stat(filepath.Join(dir, "private"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "modes stay")
	require.Error(t, OwnDirs(t.Context(), u, filepath.Join(dir, "a/link")), "a link is not followed, even at the top")
	assert.Equal(t, uint32(0), owner(outside))
	require.NoError(t, OwnDirs(t.Context(), nil, dir))
}

// OwnTree gives everything below dir away, links included (not what they
// lead to), and walks through descriptors, so a link where a directory was
// (a build user racing a rerun) cannot lead it outside.
func TestOwnTree(t *testing.T) {
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it changes owners")
	}
	u := &User{UID: 4242, GID: 4243}
	top := t.TempDir()
	dir, outside := filepath.Join(top, "tree"), filepath.Join(top, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a/b"), 0o755))
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/b/f"), nil, 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "a/dirlink")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "a/filelink")))
	require.NoError(t, OwnTree(t.Context(), u, dir))

	owner := func(p string) uint32 {
		st, err := os.Lstat(p)
		require.NoError(t, err)
		return st.Sys().(*syscall.Stat_t).Uid
	}
	for _, p := range []string{"", "a", "a/b", "a/b/f", "a/dirlink", "a/filelink"} {
		assert.Equal(t, uint32(4242), owner(filepath.Join(dir, p)), "%q", p)
	}
	for _, p := range []string{outside, filepath.Join(outside, "secret")} {
		assert.Equal(t, uint32(0), owner(p), "%s: a link is never followed", p)
	}
	require.Error(t, OwnTree(t.Context(), u, filepath.Join(dir, "a/dirlink")), "not even at the top")
	assert.Equal(t, uint32(0), owner(outside))
	require.NoError(t, OwnTree(t.Context(), nil, dir))
}
