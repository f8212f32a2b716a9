// SPDX-License-Identifier: Apache-2.0

//go:build unix

package flock_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
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

// A holder that removes the directory before releasing it leaves the
// waiter a lock on nothing: LockDir says the directory is gone, and locks
// a directory made again at the name.
func TestLockDirFollowsTheName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	require.NoError(t, os.Mkdir(dir, 0o755))
	unlock, err := flock.LockDir(context.Background(), dir)
	require.NoError(t, err)
	got := make(chan error)
	go func() {
		u, err := flock.LockDir(context.Background(), dir)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, os.Remove(dir))
	unlock()
	require.ErrorIs(t, <-got, fs.ErrNotExist)

	require.NoError(t, os.Mkdir(dir, 0o755))
	unlock, err = flock.LockDir(context.Background(), dir)
	require.NoError(t, err)
	go func() {
		u, err := flock.LockDir(context.Background(), dir)
		if err == nil {
			// The lock must be on the directory now at dir: a second
			// taker of that one must wait.
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, err2 := flock.LockDir(ctx, dir); err2 == nil {
				err = errors.New("the directory at dir was not locked")
			}
			u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, os.Rename(dir, dir+".old"))
	require.NoError(t, os.Mkdir(dir, 0o755))
	unlock()
	require.NoError(t, <-got)
}
