// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package asuser

import (
	"context"
	"errors"
)

// OwnDirs: only a nil u is supported here.
func OwnDirs(_ context.Context, u *User, _ string) error {
	if u != nil {
		return errors.ErrUnsupported
	}
	return nil
}
