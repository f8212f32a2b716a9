// SPDX-License-Identifier: Apache-2.0

//go:build unix

package atomicfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

func renameNoReplace(dir *os.File, oldname, newname string) error {
	if dir == nil {
		return noReplaceAt(nil, unix.AT_FDCWD, oldname, newname)
	}
	raw, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := raw.Control(func(fd uintptr) { err = noReplaceAt(dir, int(fd), oldname, newname) }); cerr != nil {
		return cerr
	}
	return err
}

func noReplaceAt(dir *os.File, fd int, oldname, newname string) error {
	err := retryEINTR(func() error { return renameExclusive(fd, oldname, newname) })
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// Not supported by this kernel or file system (or a directory
		// renamed into itself, which renameat refuses with EINVAL too):
		// check, then rename.
		var st unix.Stat_t
		switch serr := unix.Fstatat(fd, newname, &st, unix.AT_SYMLINK_NOFOLLOW); {
		case serr == nil:
			err = unix.EEXIST
		case errors.Is(serr, unix.ENOENT):
			err = retryEINTR(func() error { return unix.Renameat(fd, oldname, fd, newname) })
		default:
			err = serr
		}
	}
	if err != nil {
		oldpath, newpath := paths(dir, oldname, newname)
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
