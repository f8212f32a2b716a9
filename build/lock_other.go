//go:build !unix

package build

import "context"

// lockFile is a no-op where flock does not exist; builds need a Unix
// kernel tree anyway.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
