// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package asuser

import (
	"context"
	"errors"
	"os/exec"
)

// Setup sets cmd.Dir; another user is not supported here.
func Setup(cmd *exec.Cmd, u *User, dir string) (func(), error) {
	cmd.Dir = dir
	if u != nil {
		return nil, errors.ErrUnsupported
	}
	return func() {}, nil
}

// Check: only a nil u is supported here.
func Check(_ context.Context, u *User, _ string, _, _ bool, _ string) error {
	if u != nil {
		return errors.ErrUnsupported
	}
	return nil
}

// Own: only a nil u is supported here.
func Own(u *User, _ string) error {
	if u != nil {
		return errors.ErrUnsupported
	}
	return nil
}

// IsRoot is false where there is no root to drop.
func IsRoot() bool { return false }

// Owner is unknown here.
func Owner(string) (*User, error) { return nil, nil }

// OwnTree: only a nil u is supported here.
func OwnTree(_ context.Context, u *User, _ string) error {
	if u != nil {
		return errors.ErrUnsupported
	}
	return nil
}
