// SPDX-License-Identifier: Apache-2.0

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// RenameNoReplace renames oldpath to newpath unless newpath exists, in
// which case it changes nothing and fails with an error matching
// fs.ErrExist. rename(2) replaces an existing file, symlink or empty
// directory without a word (os.Rename looks for a directory first, which
// another process can beat): a directory renamed into place would drop
// one that another process made there meanwhile. On Linux the check and
// the rename are one step (renameat2 with RENAME_NOREPLACE); where the
// kernel or the file system lacks it (EINVAL, ENOSYS), and on other
// systems, the check comes first, which a creation in between can still
// beat.
func RenameNoReplace(oldpath, newpath string) error {
	return renameNoReplace(nil, oldpath, newpath)
}

// RenameNoReplaceIn is RenameNoReplace for two names in the directory
// dir, an open descriptor: the directory is not looked up again by a
// path that may have changed meanwhile.
func RenameNoReplaceIn(dir *os.File, oldname, newname string) error {
	if dir == nil {
		return errors.New("atomicfile: RenameNoReplaceIn: no directory")
	}
	return renameNoReplace(dir, oldname, newname)
}

// paths names oldname and newname for an error.
func paths(dir *os.File, oldname, newname string) (string, string) {
	if dir == nil {
		return oldname, newname
	}
	return filepath.Join(dir.Name(), oldname), filepath.Join(dir.Name(), newname)
}
