// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

// renameNoReplace checks, then renames, by path (dir's Name must be its
// path): these systems have no RENAME_NOREPLACE that Go reaches.
func renameNoReplace(dir *os.File, oldname, newname string) error {
	oldpath, newpath := paths(dir, oldname, newname)
	switch _, err := os.Lstat(newpath); {
	case err == nil:
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return os.Rename(oldpath, newpath)
}
