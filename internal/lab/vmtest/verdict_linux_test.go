// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verdictGuests are guest functions for TestGuestVerdicts: each runs, as
// it would in the VM, under runGuestTest with the output watched.
var verdictGuests = map[string]func(t *testing.T){
	"passes": func(t *testing.T) {
		t.Run("sub", func(t *testing.T) { t.Log("checked") })
	},
	"parallel subtests": func(t *testing.T) { // they run before the guest test ends
		for _, n := range []string{"a", "b"} {
			t.Run(n, func(t *testing.T) { t.Parallel() })
		}
	},
	"fails":    func(t *testing.T) { t.Error("deliberate failure") },
	"panics":   func(t *testing.T) { panic("deliberate panic") },
	"skips":    func(t *testing.T) { t.Skip("deliberate skip") },
	"parallel": func(t *testing.T) { t.Parallel() },
	"skips in a subtest": func(t *testing.T) {
		t.Run("outer", func(t *testing.T) {
			t.Run("inner", func(t *testing.T) { t.Skip("deliberate nested skip") })
		})
	},
}

const verdictCaseEnv = "VMTEST_VERDICT_CASE"

// TestGuestVerdicts runs each guest in a child test process, verbose like
// the guest's (guestArgs), and checks the verdict the harness would give
// the VM.
func TestGuestVerdicts(t *testing.T) {
	if name := os.Getenv(verdictCaseEnv); name != "" {
		o := runGuestTest(t, verdictGuests[name], watchStdout)
		v, why := verdict(o)
		fmt.Printf("verdict=%d why=%s\n", v, why)
		return
	}
	for name, want := range map[string]struct {
		v   byte
		why string
	}{
		"passes":             {VerdictPass, ""},
		"parallel subtests":  {VerdictPass, ""},
		"fails":              {VerdictFail, ""},
		"panics":             {VerdictFail, ""},
		"skips":              {VerdictFail, "the guest test skipped"},
		"parallel":           {VerdictFail, "t.Parallel"},
		"skips in a subtest": {VerdictFail, "TestGuestVerdicts/guest/outer/inner skipped"},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestGuestVerdicts$", "-test.v=test2json", "-test.count=1")
			cmd.Env = append(os.Environ(), verdictCaseEnv+"="+name)
			out, _ := cmd.CombinedOutput() // a failing guest fails the child; the verdict line says what counts
			line := ""
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "verdict=") {
					line = l
				}
			}
			require.NotEmpty(t, line, "no verdict from the child:\n%s", out)
			assert.True(t, strings.HasPrefix(line, fmt.Sprintf("verdict=%d why=", want.v)), "%s\nchild output:\n%s", line, out)
			if want.why == "" {
				assert.Equal(t, fmt.Sprintf("verdict=%d why=", want.v), line)
			} else {
				assert.Contains(t, line, want.why)
			}
		})
	}
}
