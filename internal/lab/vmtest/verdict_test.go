// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerdict(t *testing.T) {
	ran := outcome{passed: true, returned: true}
	for _, c := range []struct {
		name string
		o    outcome
		want byte
		why  string
	}{
		{"ran and passed", ran, VerdictPass, ""},
		{"failed", outcome{returned: true}, VerdictFail, ""},
		{"called t.Parallel", outcome{passed: true}, VerdictFail, "t.Parallel"},
		{"skipped", outcome{passed: true, returned: true, skipped: true}, VerdictFail, "the guest test skipped"},
		{"subtest skipped", outcome{passed: true, returned: true, skips: []string{"TestX/guest/a/b"}}, VerdictFail, "TestX/guest/a/b skipped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, why := verdict(c.o)
			assert.Equal(t, c.want, v)
			if c.why == "" {
				assert.Empty(t, why)
			} else {
				assert.Contains(t, why, c.why)
			}
		})
	}
}

func TestSkippedTests(t *testing.T) {
	out := "=== RUN   TestX/guest\n" +
		"=== RUN   TestX/guest/a\n" +
		"    --- SKIP: TestX/guest/a (0.00s)\n" +
		"        x_test.go:9: no widget\n" +
		"        --- SKIP: TestX/guest/b/c (0.01s)\n" +
		"\x16--- SKIP: TestX/guest/f (0.00s)\n" + // -test.v=test2json
		"--- SKIP: TestY/guest/d (0.00s)\n" + // another test's
		"    t.Log says --- SKIP: TestX/guest/e\n" + // not at the start of a line
		"--- PASS: TestX/guest (0.02s)\n"
	assert.Equal(t, []string{"TestX/guest/a", "TestX/guest/b/c", "TestX/guest/f"}, skippedTests(out, "TestX/guest/"))
	assert.Empty(t, skippedTests("--- PASS: TestX/guest (0.00s)\n", "TestX/guest/"))
}

// skipLines keeps whole skip lines however the writes split them.
func TestSkipLines(t *testing.T) {
	text := "=== RUN   T/guest/a\n    --- SKIP: T/guest/a (0.00s)\nlog line\n--- SKIP: T/guest/b (0.00s)\n"
	for _, chunk := range []int{1, 3, 7, len(text)} {
		var l skipLines
		for i := 0; i < len(text); i += chunk {
			n, err := l.Write([]byte(text[i:min(i+chunk, len(text))]))
			require.NoError(t, err)
			require.Equal(t, min(chunk, len(text)-i), n)
		}
		assert.Equal(t, "    --- SKIP: T/guest/a (0.00s)\n--- SKIP: T/guest/b (0.00s)\n", l.String(), "chunks of %d", chunk)
	}
}
