// SPDX-License-Identifier: Apache-2.0

//go:build unix

package flock_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/flock"
)

// Holders never overlap, and a waiter gives up with ctx's error.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	var inside atomic.Int32
	var overlap atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			unlock, err := flock.Lock(context.Background(), path, 0o644)
			require.NoError(t, err)
			if inside.Add(1) > 1 {
				overlap.Store(true)
			}
			time.Sleep(10 * time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	assert.False(t, overlap.Load(), "one holder at a time")

	unlock, err := flock.Lock(context.Background(), path, 0o644)
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = flock.Lock(ctx, path, 0o644)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), path)

	_, err = flock.Lock(context.Background(), filepath.Join(t.TempDir(), "missing", "x.lock"), 0o644)
	require.ErrorIs(t, err, fs.ErrNotExist, "no directory for the lock file")
}
