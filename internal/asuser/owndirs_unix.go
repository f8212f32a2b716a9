// SPDX-License-Identifier: Apache-2.0

//go:build unix

package asuser

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OwnDirs gives dir and every directory below it to u, and nothing else:
// files keep their owner and mode. u may then add, rename and remove
// entries, which is how GNU patch changes a file (it writes the new text
// beside it and renames it over the old one), but reads only what it
// could read before, and a file linked from elsewhere never changes hands.
// The walk goes through descriptors and never follows a symbolic link, so
// a directory swapped for a link meanwhile leads nowhere else.
// Directories u already owns are left as they are, so doing it again
// costs one walk. A nil u changes nothing.
func OwnDirs(ctx context.Context, u *User, dir string) error {
	if u == nil {
		return nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return ownDirsAt(ctx, u, fd, dir)
}

// ownDirsAt gives the directory fd (named name, for errors) and those
// below it to u, and closes fd.
func ownDirsAt(ctx context.Context, u *User, fd int, name string) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Uid != u.UID || st.Gid != u.GID {
		if err := unix.Fchown(fd, int(u.UID), int(u.GID)); err != nil {
			return &fs.PathError{Op: "chown", Path: name, Err: err}
		}
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue // a file, or a link (never followed)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sub := filepath.Join(name, e.Name())
		cfd, err := unix.Openat(fd, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: sub, Err: err}
		}
		if err := ownDirsAt(ctx, u, cfd, sub); err != nil {
			return err
		}
	}
	return nil
}
