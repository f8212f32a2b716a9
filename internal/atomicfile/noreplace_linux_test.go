// SPDX-License-Identifier: Apache-2.0

//go:build linux

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A directory renamed into place never replaces what is there, an empty
// directory included (which rename(2) replaces without a word), with
// renameat2 and with the fallback for file systems without
// RENAME_NOREPLACE alike, by path and through a directory descriptor.
func TestRenameNoReplace(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		for _, viaDir := range []bool{false, true} {
			t.Run(map[bool]string{false: "renameat2", true: "fallback"}[fallback]+map[bool]string{false: "", true: " in dir"}[viaDir], func(t *testing.T) {
				if fallback {
					calls := 0
					renameat2 = func(int, string, int, string, uint) error { calls++; return unix.EINVAL }
					t.Cleanup(func() {
						renameat2 = unix.Renameat2
						assert.NotZero(t, calls)
					})
				}
				top := t.TempDir()
				rename := func(from, to string) error {
					if !viaDir {
						return RenameNoReplace(filepath.Join(top, from), filepath.Join(top, to))
					}
					d, err := os.Open(top)
					require.NoError(t, err)
					defer d.Close()
					return RenameNoReplaceIn(d, from, to)
				}
				mkdir := func(name, inside string) {
					require.NoError(t, os.Mkdir(filepath.Join(top, name), 0o755))
					if inside != "" {
						require.NoError(t, os.WriteFile(filepath.Join(top, name, inside), nil, 0o644))
					}
				}
				mkdir("new", "ours")
				mkdir("theirs", "")
				require.NoError(t, os.WriteFile(filepath.Join(top, "file"), []byte("theirs"), 0o644))
				require.NoError(t, os.Symlink("nowhere", filepath.Join(top, "link")))

				for _, dst := range []string{"theirs", "file", "link"} {
					err := rename("new", dst)
					require.ErrorIs(t, err, fs.ErrExist, dst)
					assert.Contains(t, err.Error(), filepath.Join(top, dst))
					assert.FileExists(t, filepath.Join(top, "new", "ours"), "the source stays")
				}
				assert.DirExists(t, filepath.Join(top, "theirs"), "the empty directory stays")
				data, err := os.ReadFile(filepath.Join(top, "file"))
				require.NoError(t, err)
				assert.Equal(t, "theirs", string(data))
				target, err := os.Readlink(filepath.Join(top, "link"))
				require.NoError(t, err)
				assert.Equal(t, "nowhere", target)

				require.NoError(t, rename("new", "final"))
				assert.FileExists(t, filepath.Join(top, "final", "ours"))
				assert.NoDirExists(t, filepath.Join(top, "new"))
				require.ErrorIs(t, rename("gone", "other"), fs.ErrNotExist)
			})
		}
	}
}
