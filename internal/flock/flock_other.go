// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package flock

import (
	"context"
	"os"
)

// Supported reports whether Lock really locks on this platform.
const Supported = false

// Lock does nothing where flock(2) does not exist: concurrent runs are
// then the caller's concern. It still honours a context that has ended.
func Lock(ctx context.Context, path string, perm os.FileMode) (unlock func(), err error) {
	return func() {}, ctx.Err()
}

// LockDir does nothing either, as Lock.
func LockDir(ctx context.Context, dir string) (unlock func(), err error) {
	return func() {}, ctx.Err()
}
