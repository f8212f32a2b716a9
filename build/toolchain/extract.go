// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ErrUnsafePath: a package entry would be written outside the root, or
// through a link, or is of a type a toolchain root does not hold.
var ErrUnsafePath = errors.New("toolchain: unsafe path in package")

// maxRootSize bounds the bytes unpacked into one root (a gcc-10 root is
// about 220 MB).
const maxRootSize = 4 << 30

// extractor unpacks package data into one root. Every write goes through
// os.Root, so nothing lands outside it whatever the links say; names are
// checked before that, so a hostile package is refused with a reason
// rather than partly written.
type extractor struct {
	root  *os.Root
	total int64
	limit int64 // 0: maxRootSize
}

func (x *extractor) untar(ctx context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := x.entry(tr, h); err != nil {
			return err
		}
	}
}

func unsafeEntry(name, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsafePath, name, fmt.Sprintf(format, args...))
}

// cleanName turns an archive name ("./usr/bin/gcc-10") into a path
// relative to the root, refusing absolute names and "..".
func cleanName(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", unsafeEntry(name, "NUL in name")
	}
	n := strings.TrimPrefix(name, "./")
	if strings.HasPrefix(n, "/") {
		return "", unsafeEntry(name, "absolute name")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", unsafeEntry(name, "name climbs with ..")
		}
	}
	return path.Clean(n), nil
}

func (x *extractor) entry(tr *tar.Reader, h *tar.Header) error {
	name, err := cleanName(h.Name)
	if err != nil {
		return err
	}
	if name == "." {
		return nil
	}
	if err := x.noLinkParents(name); err != nil {
		return err
	}
	for k := range h.PAXRecords {
		// Sparse files expand holes on reading: a small entry could
		// fill the disk. No Debian package needs them.
		if strings.HasPrefix(k, "GNU.sparse.") {
			return unsafeEntry(h.Name, "sparse file")
		}
	}
	// No setuid, setgid or sticky bits: a root is run, not installed.
	mode := fs.FileMode(h.Mode).Perm()
	switch h.Typeflag {
	case tar.TypeDir:
		if err := x.root.MkdirAll(name, mode|0o700); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case tar.TypeReg:
		limit := x.limit
		if limit <= 0 {
			limit = maxRootSize
		}
		x.total += h.Size
		if h.Size < 0 || x.total > limit {
			return fmt.Errorf("%s: the root would exceed %d bytes", name, limit)
		}
		if err := x.clear(name); err != nil {
			return err
		}
		f, err := x.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o200)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		_, err = io.Copy(f, io.LimitReader(tr, h.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case tar.TypeSymlink:
		target, err := linkTarget(name, h.Linkname)
		if err != nil {
			return err
		}
		if err := x.clear(name); err != nil {
			return err
		}
		if err := x.root.Symlink(target, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case tar.TypeLink:
		old, err := cleanName(h.Linkname)
		if err != nil {
			return err
		}
		if err := x.noLinkParents(old); err != nil {
			return err
		}
		fi, err := x.root.Lstat(old)
		if err != nil {
			return unsafeEntry(h.Name, "hard link to %s, which is not (yet) in the root", h.Linkname)
		}
		if !fi.Mode().IsRegular() {
			return unsafeEntry(h.Name, "hard link to %s, which is not a regular file", h.Linkname)
		}
		if err := x.clear(name); err != nil {
			return err
		}
		if err := x.root.Link(old, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	return unsafeEntry(h.Name, "entry type %q is not a file, directory or link", h.Typeflag)
}

// linkTarget checks a symlink's target and makes it relative: an
// absolute target means the same path inside the root (where the root's
// programs resolve it, in a chroot), so "/lib/x/ld.so" at "lib64/ld.so"
// becomes "../lib/x/ld.so", which reads the same from outside the root.
// A relative target must not climb out of the root.
func linkTarget(name, target string) (string, error) {
	if target == "" || strings.ContainsRune(target, 0) {
		return "", unsafeEntry(name, "empty or NUL symlink target")
	}
	dir := path.Dir(name)
	if strings.HasPrefix(target, "/") {
		abs := path.Clean(target)
		if abs == "/" {
			return "", unsafeEntry(name, "symlink to the root itself")
		}
		up := ""
		if dir != "." {
			up = strings.Repeat("../", strings.Count(dir, "/")+1)
		}
		return up + strings.TrimPrefix(abs, "/"), nil
	}
	if resolved := path.Join(dir, target); resolved == ".." || strings.HasPrefix(resolved, "../") {
		return "", unsafeEntry(name, "symlink target %q leaves the root", target)
	}
	return target, nil
}

// noLinkParents refuses a name whose parent directories include a
// symlink: packages write into directories, never through links.
func (x *extractor) noLinkParents(name string) error {
	dir := path.Dir(name)
	if dir == "." {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(dir, "/") {
		cur = path.Join(cur, part)
		fi, err := x.root.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", cur, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return unsafeEntry(name, "goes through symlink %s", cur)
		}
		if !fi.IsDir() {
			return unsafeEntry(name, "parent %s is not a directory", cur)
		}
	}
	return nil
}

// clear removes what a later package replaces at name (dpkg's Replaces:
// the last package in list order wins); a directory is never replaced.
func (x *extractor) clear(name string) error {
	fi, err := x.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return x.root.MkdirAll(path.Dir(name), 0o755)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if fi.IsDir() {
		return unsafeEntry(name, "a directory is in the way")
	}
	return x.root.Remove(name)
}
