//go:build !linux

package kmod

import "context"

// lock returns ErrUnsupported: modules cannot be loaded here anyway.
func (s *System) lock(context.Context) (func(), error) { return nil, ErrUnsupported }
