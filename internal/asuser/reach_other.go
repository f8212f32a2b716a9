// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package asuser

import (
	"context"
	"errors"
)

// Reacher: only a nil user is supported here, which reaches everything.
type Reacher struct{}

// NewReacher returns a Reacher.
func NewReacher(*User) *Reacher { return &Reacher{} }

// Blocked is always "" here.
func (*Reacher) Blocked(string) string { return "" }

// CheckPath: only a nil u is supported here.
func CheckPath(_ context.Context, u *User, _, _ string) error {
	if u != nil {
		return errors.ErrUnsupported
	}
	return nil
}
