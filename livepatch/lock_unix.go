// SPDX-License-Identifier: Apache-2.0

//go:build unix

package livepatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockTree takes an exclusive flock on the tree's root directory itself,
// so that no lock file is left in the tree; a killed holder releases it.
// A nil ctx waits for ever.
func lockTree(ctx context.Context, root string) (unlock func(), err error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("lock tree %s: %w", root, err)
	}
	for {
		err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { d.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			d.Close()
			return nil, fmt.Errorf("lock tree %s: %w", root, err)
		}
		var done <-chan struct{}
		if ctx != nil {
			done = ctx.Done()
		}
		select {
		case <-done:
			d.Close()
			return nil, fmt.Errorf("waiting for the lock on tree %s: %w", root, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
