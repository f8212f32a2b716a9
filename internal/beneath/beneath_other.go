// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package beneath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// open uses os.Root, which resolves each component itself and refuses
// links out of the root.
func open(root, name string, _ bool) (*os.File, error) {
	if filepath.IsAbs(name) || strings.HasPrefix(name, "/") {
		return nil, escapes(name)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
		// os.Root does not export its escape error; anything but a
		// missing or unreadable file is treated as one.
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.Join(ErrEscapes, err)}
	}
	return f, err
}
