// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

// Entries that another process put in place of the extraction's own
// while it ran (a file and a symlink replaced, a directory it created
// filled) survive its rollback: what it removes is only what is still
// its own, by device and inode.
func TestExtractRollbackKeepsOthersEntries(t *testing.T) {
	raw := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/new", "package"), symlink("./etc/l", "new"),
		dir("./etc/sub"), reg("./etc/y", "y"), symlink("./etc/out", "/etc/passwd")}, true))
	dest := filepath.Join(t.TempDir(), "dest")
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o755))
	replace := func(name, data string) {
		tmp := filepath.Join(dest, "etc", "other-"+name)
		require.NoError(t, os.WriteFile(tmp, []byte(data), 0o644))
		require.NoError(t, os.Rename(tmp, filepath.Join(dest, "etc", name)))
	}
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{Progress: klpkit.On(func(e ExtractEvent) {
		if e.Name != "etc/y" {
			return
		}
		replace("new", "theirs")
		replace("l", "theirs too")
		require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/sub/x"), []byte("theirs"), 0o644))
	})})
	require.ErrorIs(t, err, ErrUnsafePath)
	assert.NotContains(t, err.Error(), "restoring", "nothing of the extraction's own was left")
	for name, want := range map[string]string{"etc/new": "theirs", "etc/l": "theirs too", "etc/sub/x": "theirs"} {
		got, err := os.ReadFile(filepath.Join(dest, name))
		require.NoError(t, err, "%s kept", name)
		assert.Equal(t, want, string(got), name)
	}
	_, err = os.Stat(filepath.Join(dest, "etc/y"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the extraction's own file went")
	assert.Empty(t, leftovers(t, dest))
}

// A directory or symlink renamed into place never replaces what another
// process put at its name after the extraction made way: rename(2)
// replaces a file without a word (and an empty directory: Go's Rename
// looks for one first, which a process can beat). The entry fails and the
// other process's entry stays.
func TestPlaceNeverReplacesAnotherEntry(t *testing.T) {
	dest := t.TempDir()
	root, err := os.OpenRoot(dest)
	require.NoError(t, err)
	defer root.Close()
	x := &extractor{root: root, dirs: map[string]bool{}}
	for _, tc := range []struct {
		name   string
		mk     func(tmp string) error // the extraction's entry
		theirs func(p string) error   // what the other process makes meanwhile
		typ    fs.FileMode            // its type
	}{
		{"directory over an empty directory", func(tmp string) error { return root.Mkdir(tmp, 0o755) },
			func(p string) error { return os.Mkdir(p, 0o700) }, fs.ModeDir},
		{"symlink over a file", func(tmp string) error { return root.Symlink("target", tmp) },
			func(p string) error { return os.WriteFile(p, []byte("theirs"), 0o600) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := strings.ReplaceAll(tc.name, " ", "-")
			err := x.place("./"+rel, rel, func(tmp string) error {
				if err := tc.mk(tmp); err != nil {
					return err
				}
				return tc.theirs(filepath.Join(dest, rel))
			})
			require.ErrorIs(t, err, fs.ErrExist)
			st, err := os.Lstat(filepath.Join(dest, rel))
			require.NoError(t, err)
			assert.Equal(t, tc.typ, st.Mode().Type(), "theirs stays")
			assert.Empty(t, leftovers(t, dest))
		})
	}
}
