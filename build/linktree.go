// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/atomicfile"
)

// linkTree makes dst a copy of the tree src that u may build in: every
// directory new and u's, symbolic links copied, the sources hard links to
// src's (so make sees the same times and contents): u may replace a linked
// file (the directory is its own) but not change it, and the tree's files
// stay as they are. Files modified at or after generated (the time the
// tree's .config was written: what make made since, which kbuild rewrites
// in place, such as .d files) are copied and given to u. Across file
// systems, where links fail, every file is copied. Copies keep their
// times. An entry that vanishes during the walk (a temporary file of a
// build in the tree) is left out.
func linkTree(ctx context.Context, src, dst string, u *asuser.User, generated time.Time) error {
	link := true
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err := linkEntry(ctx, src, dst, p, d, err, u, generated, &link); err != nil && !(errors.Is(err, fs.ErrNotExist) && p != src) {
			return err
		}
		return nil
	})
}

// linkEntry is linkTree's step for the entry p of src.
func linkEntry(ctx context.Context, src, dst, p string, d fs.DirEntry, err error, u *asuser.User, generated time.Time, link *bool) error {
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rel, err := filepath.Rel(src, p)
	if err != nil {
		return err
	}
	out := filepath.Join(dst, rel)
	switch {
	case p == dst:
		return filepath.SkipDir // the copy inside the tree
	case d.IsDir():
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.Mkdir(out, info.Mode().Perm()|0o700); err != nil {
			return err
		}
		return asuser.Own(u, out)
	case d.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, out); err != nil {
			return err
		}
		return asuser.Own(u, out)
	case d.Type().IsRegular():
		info, err := d.Info()
		if err != nil {
			return err
		}
		if *link && info.ModTime().Before(generated) {
			err := os.Link(p, out)
			if err == nil || !errors.Is(err, syscall.EXDEV) {
				return err
			}
			*link = false
		}
		if err := copyTreeFile(p, out, info); err != nil {
			return err
		}
		return asuser.Own(u, out)
	default:
		return nil // devices, pipes and sockets have no place in a tree
	}
}

// copyTreeFile copies the regular file from to the new file to, with its mode
// and times.
func copyTreeFile(from, to string, info fs.FileInfo) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(to, info.ModTime(), info.ModTime())
}

// copyFileAtomic replaces to with a copy of from (temporary file and
// rename), with mode perm and from's modification time.
func copyFileAtomic(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := atomicfile.Copy(to, perm, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	}); err != nil {
		return err
	}
	return os.Chtimes(to, st.ModTime(), st.ModTime())
}
