// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package beneath

import "os"

// open uses os.Root (see openRoot).
func open(root, name string, _ bool) (*os.File, error) {
	return openRoot(root, name)
}
