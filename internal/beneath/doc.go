// SPDX-License-Identifier: Apache-2.0

// Package beneath opens files by a path relative to a root directory
// without ever following a link out of it: ".." above the root, absolute
// symlinks and symlinks that climb out are refused with ErrEscapes, however
// they are chained. Kernel preparation reads files of untrusted trees
// (source RPMs, patched kernel sources) through it.
//
// On Linux it uses openat2(2) with RESOLVE_BENEATH, and on kernels without
// openat2 (before 5.6, or where a sandbox refuses it) it resolves each
// component itself with O_NOFOLLOW. Elsewhere it uses os.Root, and only
// os.Root's own escape error becomes ErrEscapes.
package beneath

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrEscapes is returned for a path whose resolution leaves the root.
var ErrEscapes = errors.New("path leads outside its root")

// maxLinks bounds the symlinks followed in one resolution, as the kernel's
// own limit (40) does.
const maxLinks = 40

// Open opens name (relative to root) for reading.
func Open(root, name string) (*os.File, error) {
	return open(root, name, false)
}

// ReadFile reads the file name (relative to root), refusing files larger
// than limit bytes (limit <= 0: no limit). It also returns the file's
// permission bits, so a copy can keep them from widening.
func ReadFile(root, name string, limit int64) ([]byte, os.FileMode, error) {
	f, err := Open(root, name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, &os.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	r := io.Reader(f)
	if limit > 0 {
		if fi.Size() > limit {
			return nil, 0, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d bytes", limit)}
		}
		r = io.LimitReader(f, limit+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	if limit > 0 && int64(len(data)) > limit {
		return nil, 0, &os.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d bytes", limit)}
	}
	return data, fi.Mode().Perm(), nil
}

func escapes(name string) error {
	return &os.PathError{Op: "open", Path: name, Err: ErrEscapes}
}

// MaxTreeFile bounds a file of a source package or kernel tree read into
// memory whole (a spec, an %include, a config, a file sed edits).
const MaxTreeFile = 64 << 20

// ReadTreeFile is ReadFile with MaxTreeFile, its errors prefixed with name
// (never with the file's content).
func ReadTreeFile(root, name string) ([]byte, os.FileMode, error) {
	data, mode, err := ReadFile(root, name, MaxTreeFile)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return data, mode, nil
}
