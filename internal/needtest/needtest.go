// SPDX-License-Identifier: Apache-2.0

// Package needtest is the one rule for a test that needs what a machine
// may lack (root, a tool, the lab): locally it skips with a message that
// says what it needs; in CI (CI=true), where .ci/run must provide
// everything and nothing may skip, the same message fails the test.
package needtest

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether tests run in CI, where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test for want of what format says: it skips, or in
// CI fails.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: nothing may skip; .ci/run must provide it)", msg)
		return
	}
	t.Skip(msg)
}
