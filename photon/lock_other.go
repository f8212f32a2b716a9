//go:build !linux

package photon

import "context"

// lockFile is a no-op where flock is not available: concurrent runs on one
// cache directory are then the caller's concern.
func lockFile(ctx context.Context, name string) (func(), error) {
	return func() {}, ctx.Err()
}
