//go:build !unix

package photonsource

import "context"

// lockFile does nothing where flock is missing.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
