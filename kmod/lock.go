// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/klpkit/klpkit/internal/flock"
)

// lock takes the host-wide lock that serialises loads and unloads between
// processes and goroutines. Where modules cannot be loaded (not Linux) it
// returns ErrUnsupported.
func (s *System) lock(ctx context.Context) (func(), error) {
	if runtime.GOOS != "linux" {
		return nil, ErrUnsupported
	}
	path := orDefault(s.LockPath, "/run/klpkit-kmod.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	unlock, err := flock.Lock(ctx, path, 0o600)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w (another load or unload is running)", err)
	}
	return unlock, err
}
