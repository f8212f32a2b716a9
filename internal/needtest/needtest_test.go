// SPDX-License-Identifier: Apache-2.0

package needtest

import (
	"testing"
)

// recorder is a testing.TB that records how Missing ended the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skip(args ...any)          { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = f + ":" + a[0].(string) }

func TestMissing(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Missing(r, "needs %s", "gcc")
	if r.skipped != "needs gcc" || r.failed != "" {
		t.Fatalf("locally: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	Missing(r, "needs %s", "gcc")
	if r.skipped != "" || r.failed == "" {
		t.Fatalf("in CI: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}
