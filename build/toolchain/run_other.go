// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package toolchain

import (
	"errors"
	"os/exec"
)

// Start runs commands inside a root only on Linux.
func (r *Root) Start(cmd *exec.Cmd, binds []string) error {
	return errors.ErrUnsupported
}
