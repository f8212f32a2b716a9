// SPDX-License-Identifier: Apache-2.0

//go:build linux

package atomicfile

import "golang.org/x/sys/unix"

// renameat2 is unix.Renameat2; a test stands in a file system without
// RENAME_NOREPLACE.
var renameat2 = unix.Renameat2

// renameExclusive renames within the directory fd unless newname exists.
func renameExclusive(fd int, oldname, newname string) error {
	return renameat2(fd, oldname, fd, newname, unix.RENAME_NOREPLACE)
}
