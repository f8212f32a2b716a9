// SPDX-License-Identifier: Apache-2.0

package beneath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

func open(root, name string, forceFallback bool) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	if !forceFallback {
		how := &unix.OpenHow{
			// O_NONBLOCK: a FIFO planted in a tree must not block the
			// open; it has no effect on regular files.
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		}
		fd, err := unix.Openat2(dir, name, how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), filepath.Join(root, name)), nil
		case errors.Is(err, unix.EXDEV):
			return nil, escapes(name)
		case !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM):
			// EPERM: seccomp sandboxes refuse syscalls they do not know.
			return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
		}
	}
	return walk(dir, root, name)
}

// walk resolves name one component at a time from dir, reading symlinks
// itself and keeping the directories passed on a stack, so ".." never
// goes above dir.
func walk(dir int, root, name string) (*os.File, error) {
	first, err := unix.Dup(dir)
	if err != nil {
		return nil, err
	}
	stack := []int{first}
	defer func() {
		for _, fd := range stack {
			unix.Close(fd)
		}
	}()
	parts := strings.Split(name, "/")
	if strings.HasPrefix(name, "/") {
		return nil, escapes(name)
	}
	links := 0
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return nil, escapes(name)
			}
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			continue
		}
		cur := stack[len(stack)-1]
		fd, err := unix.Openat(cur, part, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "openat", Path: name, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := readlink(fd)
			unix.Close(fd)
			if err != nil {
				return nil, &os.PathError{Op: "readlink", Path: name, Err: err}
			}
			if links++; links > maxLinks {
				return nil, &os.PathError{Op: "open", Path: name, Err: unix.ELOOP}
			}
			if strings.HasPrefix(target, "/") {
				return nil, escapes(name)
			}
			parts = append(strings.Split(target, "/"), parts...)
		case unix.S_IFDIR:
			stack = append(stack, fd)
		default:
			unix.Close(fd)
			if len(parts) > 0 {
				return nil, &os.PathError{Op: "open", Path: name, Err: unix.ENOTDIR}
			}
			// O_NOFOLLOW: if part became a symlink since, this fails.
			f, err := unix.Openat(cur, part, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
			if err != nil {
				return nil, &os.PathError{Op: "openat", Path: name, Err: err}
			}
			return os.NewFile(uintptr(f), filepath.Join(root, name)), nil
		}
	}
	// The path names a directory: reopen the last one for reading.
	fd, err := unix.Openat(stack[len(stack)-1], ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, name)), nil
}

// readlink reads the target of the symlink opened (O_PATH) as fd.
func readlink(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}
