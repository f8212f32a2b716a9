// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/flock"
)

// lockDest locks dest for one extraction, creating it and its missing
// parents first under the lock of the deepest directory that exists: an
// extraction never creates what another is about to use without knowing
// it, so a failed one can remove exactly the directories it created
// (returned outermost first). dest's lock is taken before that
// directory's is released. A directory removed under a waiter (a failed
// extraction removing what it created) starts the walk again.
func lockDest(ctx context.Context, dest string) (unlock func(), created []string, err error) {
	dest = filepath.Clean(dest)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		unlock, created, err := tryLockDest(ctx, dest)
		if errors.Is(err, errRetry) {
			continue
		}
		return unlock, created, err
	}
}

var errRetry = errors.New("retry")

func tryLockDest(ctx context.Context, dest string) (func(), []string, error) {
	anc, missing, err := existingAncestor(dest)
	if err != nil {
		return nil, nil, err
	}
	if len(missing) == 0 {
		unlock, err := flock.LockDir(ctx, dest)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, errRetry
		}
		return unlock, nil, err
	}
	unlockAnc, err := flock.LockDir(ctx, anc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errRetry
	}
	if err != nil {
		return nil, nil, err
	}
	defer unlockAnc()
	var created []string
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
	}
	for _, d := range missing {
		err := os.Mkdir(d, 0o755)
		switch {
		case err == nil:
			created = append(created, d)
		case errors.Is(err, fs.ErrExist):
			// Made meanwhile without the lock (not by an extraction): not ours.
		case errors.Is(err, fs.ErrNotExist):
			undo()
			return nil, nil, errRetry
		default:
			undo()
			return nil, nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	unlock, err := flock.LockDir(ctx, dest)
	if err != nil {
		undo()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, errRetry
		}
		return nil, nil, err
	}
	return unlock, created, nil
}

// existingAncestor returns the deepest existing directory at or above
// dest and the missing ones below it, outermost first.
func existingAncestor(dest string) (string, []string, error) {
	var missing []string
	for p := dest; ; {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return "", nil, fmt.Errorf("%s: %w", p, errNotDir)
			}
			return p, missing, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, err
		}
		missing = append([]string{p}, missing...)
		parent := filepath.Dir(p)
		if parent == p {
			return "", nil, err
		}
		p = parent
	}
}

var errNotDir = errors.New("not a directory")

// removeCreated removes the directories lockDest created for a failed
// extraction, innermost first, each only when empty.
func removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i])
	}
}
