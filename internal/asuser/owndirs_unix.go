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
	return own(ctx, u, dir, false)
}

// OwnTree gives dir and everything below it to u, leaving alone what u
// already owns (so that doing it again costs one walk). Symbolic links are
// changed, not followed. The walk goes through descriptors, as OwnDirs':
// u may own the tree already (a rerun) and could swap a directory for a
// link to elsewhere while it runs, which a walk by path would follow into
// a chown of what the link names. A nil u changes nothing.
func OwnTree(ctx context.Context, u *User, dir string) error {
	return own(ctx, u, dir, true)
}

func own(ctx context.Context, u *User, dir string, files bool) error {
	if u == nil {
		return nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return ownAt(ctx, u, fd, dir, files)
}

// ownAt gives the directory fd (named name, for errors) and the
// directories below it to u, and with files everything else in them too;
// it closes fd.
func ownAt(ctx context.Context, u *User, fd int, name string, files bool) error {
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
		if err := ctx.Err(); err != nil {
			return err
		}
		sub := filepath.Join(name, e.Name())
		if !e.IsDir() {
			if files {
				if err := ownEntryAt(u, fd, e.Name(), sub); err != nil {
					return err
				}
			}
			continue // a link is never followed
		}
		cfd, err := unix.Openat(fd, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: sub, Err: err}
		}
		if err := ownAt(ctx, u, cfd, sub, files); err != nil {
			return err
		}
	}
	return nil
}

// ownEntryAt gives the entry entry of directory fd (a file or a link,
// never followed) to u unless u owns it.
func ownEntryAt(u *User, fd int, entry, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, entry, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Uid == u.UID && st.Gid == u.GID {
		return nil
	}
	if err := unix.Fchownat(fd, entry, int(u.UID), int(u.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "chown", Path: name, Err: err}
	}
	return nil
}
