// SPDX-License-Identifier: Apache-2.0

package beneath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// openRoot opens name with os.Root, which resolves each component itself
// and refuses links out of the root. It is how Open works where openat2
// and O_PATH do not exist, and it is compiled everywhere so that its
// error mapping is tested on Linux too.
//
// os.Root does not export its escape error, so it is learnt from the root
// itself: opening ".." from a root always escapes. Only an error that is
// that one becomes ErrEscapes; a loop, a file used as a directory or any
// other failure is returned as it is.
func openRoot(root, name string) (*os.File, error) {
	if filepath.IsAbs(name) || strings.HasPrefix(name, "/") {
		return nil, escapes(name)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(name)
	if err == nil {
		return f, nil
	}
	if rootEscape := escapeError(r); rootEscape != nil && errors.Is(err, rootEscape) {
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.Join(ErrEscapes, rootEscape)}
	}
	return nil, err
}

// escapeError returns the error os.Root gives for a path that leaves it
// (nil if it cannot be had).
func escapeError(r *os.Root) error {
	f, err := r.Open("..")
	if err == nil {
		f.Close()
		return nil
	}
	var pe *os.PathError
	if !errors.As(err, &pe) {
		return nil
	}
	return pe.Err
}
