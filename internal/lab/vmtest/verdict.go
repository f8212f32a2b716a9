// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"bufio"
	"bytes"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// outcome is what the harness saw of one run of the guest function.
type outcome struct {
	passed   bool     // t.Run("guest") reported success
	returned bool     // the guest function had returned (or exited) when t.Run did
	skipped  bool     // the guest test itself skipped
	skips    []string // tests at any depth below the guest test that skipped
}

// verdict decides the VM's verdict: PASS only if the guest test ran to its
// end, in order, and nothing in it skipped. A guest that calls t.Parallel
// makes t.Run return before its checks ran (they would run after the
// verdict, that is never); a skip at any depth means a check did not run.
// why explains a FAIL that the guest's own output does not.
func verdict(o outcome) (v byte, why string) {
	switch {
	case !o.returned:
		return VerdictFail, "the guest test called t.Parallel (its checks would run after the verdict); a VM test must run in order"
	case !o.passed:
		return VerdictFail, ""
	case o.skipped:
		return VerdictFail, "the guest test skipped; a VM test must not skip"
	case len(o.skips) > 0:
		return VerdictFail, fmt.Sprintf("%s skipped; a VM test must not skip, not even in a subtest", strings.Join(o.skips, ", "))
	}
	return VerdictPass, ""
}

// runGuestTest runs guest as the subtest "guest" of t and returns what
// happened. Skips below it are read from the test output, the only place
// the testing package reports them: watch diverts it while the guest runs
// (nil: not watched).
func runGuestTest(t *testing.T, guest func(t *testing.T), watch func() (stop func() string, err error)) outcome {
	var o outcome
	var returned, skipped atomic.Bool
	var stop func() string
	if watch != nil {
		var err error
		if stop, err = watch(); err != nil {
			fmt.Printf("vmtest: cannot watch the guest's output for skipped subtests: %v\n", err)
			return outcome{returned: true}
		}
	}
	o.passed = t.Run("guest", func(t *testing.T) {
		defer func() {
			// A Go panic in the guest would kill init and read as a
			// kernel panic: report it as the test failure it is.
			if r := recover(); r != nil {
				t.Errorf("panic in guest: %v\n%s", r, debug.Stack())
			}
			skipped.Store(t.Skipped())
			returned.Store(true) // runs on return, FailNow and SkipNow; not while paused in t.Parallel
		}()
		guest(t)
	})
	o.returned, o.skipped = returned.Load(), skipped.Load()
	if stop != nil {
		o.skips = skippedTests(stop(), t.Name()+"/guest/")
	}
	return o
}

// skippedTests returns the tests named under prefix that verbose test
// output reports skipped: "--- SKIP: name (0.00s)" lines, indented by
// depth, or after test2json's ^V framing byte (see guestArgs).
func skippedTests(output, prefix string) []string {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimLeft(sc.Text(), " \t\x16"), "--- SKIP: ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	return names
}

// skipLines is an io.Writer that keeps the complete lines of verbose test
// output that report a skip, for skippedTests. The copying goroutine writes
// while the harness may read after it finished, hence the lock.
type skipLines struct {
	mu      sync.Mutex
	partial []byte
	kept    strings.Builder
}

func (l *skipLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if line := l.partial[:i+1]; bytes.Contains(line, []byte("--- SKIP: ")) {
			l.kept.Write(line)
		}
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 64<<10 { // a line that long is no test verdict
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

func (l *skipLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kept.String() + string(l.partial)
}
