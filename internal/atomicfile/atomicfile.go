// SPDX-License-Identifier: Apache-2.0

// Package atomicfile writes files so that readers see either the old file or
// the complete new one, never a partial write: data goes to a temporary file
// in the same directory, is synced, and is renamed into place.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// File is a pending replacement of a named file. Write to it, then Commit to
// put it in place or Abort to drop it. Abort after Commit does nothing, so
// `defer f.Abort()` is the usual pattern.
type File struct {
	*os.File
	name string
	done bool
}

// Create starts writing name, creating its directory if needed. The file
// gets mode perm when committed.
func Create(name string, perm os.FileMode) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, name: name}, nil
}

// Commit syncs the data and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: " + f.name + " already committed or aborted")
	}
	f.done = true
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort drops the pending file; the named file is left as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile replaces name with data, atomically.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	return Copy(name, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Copy replaces name with what write produces, atomically: if write fails,
// name is left as it was.
func Copy(name string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := Create(name, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}
