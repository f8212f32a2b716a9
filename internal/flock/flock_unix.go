// SPDX-License-Identifier: Apache-2.0

//go:build unix

package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether Lock really locks on this platform.
const Supported = true

// poll is how often a held lock is tried again.
const poll = 20 * time.Millisecond

// Lock takes an exclusive lock on path, creating the file with perm if
// needed, and waits while another holds it. The error on ctx's end wraps
// ctx.Err(). unlock releases the lock.
func Lock(ctx context.Context, path string, perm os.FileMode) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, perm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return lockFile(ctx, f, path)
}

// LockDir takes an exclusive lock on the directory dir itself, creating
// no file, and waits while another holds it, as Lock does. A holder may
// remove or replace dir before releasing it: the lock then taken is on
// the directory now at dir (an error wrapping fs.ErrNotExist if none).
func LockDir(ctx context.Context, dir string) (unlock func(), err error) {
	for {
		f, err := os.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		unlock, err := lockFile(ctx, f, dir)
		if err != nil {
			return nil, err
		}
		held, herr := f.Stat()
		now, nerr := os.Stat(dir)
		if herr == nil && nerr == nil && os.SameFile(held, now) {
			return unlock, nil
		}
		unlock()
		if nerr != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, nerr)
		}
		if herr != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, herr)
		}
	}
}

func lockFile(ctx context.Context, f *os.File, path string) (unlock func(), err error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(poll):
		}
	}
}
