// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// numbered returns "line01".."lineNN", one per line, with edits applied:
// a key of 0 inserts its value before the file, any other replaces that line.
func numbered(n int, edits map[int]string) string {
	var b strings.Builder
	if top, ok := edits[0]; ok {
		b.WriteString(top)
	}
	for i := 1; i <= n; i++ {
		if e, ok := edits[i]; ok {
			b.WriteString(e)
			continue
		}
		fmt.Fprintf(&b, "line%02d\n", i)
	}
	return b.String()
}

// fuzzHunk replaces line13 and has three lines of context on each side.
const fuzzHunk = "@@ -10,7 +10,8 @@\n line10\n line11\n line12\n-line13\n+LINE13\n+extra\n line14\n line15\n line16\n"

// twoCopies holds the lines "p3 X s1" twice, at lines 11-13 and 21-23.
var twoCopies = numbered(40, map[int]string{11: "p3\n", 12: "X\n", 13: "s1\n", 21: "p3\n", 22: "X\n", 23: "s1\n"})

const pqrHunk = " p1\n p2\n p3\n-X\n+Y\n s1\n s2\n s3\n"

var fuzzCases = []struct {
	name  string
	file  string
	hunks string
	fuzz  int
	// want is the placement (1-based line, offset, fuzz); line 0: refused.
	line, offset, gotFuzz int
	// fitsFuzz: on refusal, the fuzz the error says would place the hunk.
	fitsFuzz int
}{
	{name: "exact", file: numbered(30, nil), hunks: fuzzHunk, line: 10},
	{name: "offset only", file: numbered(30, map[int]string{0: "a\nb\nc\n"}), hunks: fuzzHunk, line: 13, offset: 3},
	{name: "outer context differs, fuzz 0", file: numbered(30, map[int]string{10: "x\n", 16: "y\n"}), hunks: fuzzHunk, fitsFuzz: 1},
	{name: "outer context differs, fuzz 1", file: numbered(30, map[int]string{10: "x\n", 16: "y\n"}), hunks: fuzzHunk, fuzz: 1, line: 10, gotFuzz: 1},
	{name: "two leading lines differ, fuzz 1 refused", file: numbered(30, map[int]string{10: "x\n", 11: "y\n"}), hunks: fuzzHunk, fuzz: 1, fitsFuzz: 2},
	{name: "two leading lines differ, fuzz 2", file: numbered(30, map[int]string{10: "x\n", 11: "y\n"}), hunks: fuzzHunk, fuzz: 2, line: 10, gotFuzz: 2},
	{name: "two trailing lines differ, moved, fuzz 2", file: numbered(30, map[int]string{0: "a\nb\nc\n", 15: "x\n", 16: "y\n"}), hunks: fuzzHunk, fuzz: 2, line: 13, offset: 3, gotFuzz: 2},
	{name: "fuzz 2 also allowed, 1 suffices", file: numbered(30, map[int]string{16: "y\n"}), hunks: fuzzHunk, fuzz: 2, line: 10, gotFuzz: 1},
	{name: "full context far away beats fuzz nearby",
		file:  numbered(30, map[int]string{10: "x\n", 25: "line25\nline10\nline11\nline12\nline13\nline14\nline15\nline16\n"}),
		hunks: fuzzHunk, fuzz: 2, line: 26, offset: 16},
	{name: "fuzz never reaches a changed line", file: numbered(30, map[int]string{13: "other\n"}), hunks: fuzzHunk, fuzz: 9},
	{name: "fuzz is capped at the context size",
		file: numbered(30, map[int]string{10: "a\n", 11: "b\n", 12: "c\n", 14: "d\n", 15: "e\n", 16: "f\n"}), hunks: fuzzHunk, fuzz: 9, line: 10, gotFuzz: 3},
	{name: "one line of context, fuzz 2 gives 1",
		file: numbered(30, map[int]string{12: "x\n"}), hunks: "@@ -12,3 +12,3 @@\n line12\n-line13\n+LINE13\n line14\n", fuzz: 2, line: 12, gotFuzz: 1},
	// Two places match the inner lines (fuzz 2), 5 lines either side of
	// where the header points: GNU patch takes the later one.
	{name: "ambiguous: equal distance, later wins", file: twoCopies, hunks: "@@ -14,7 +14,7 @@\n" + pqrHunk, fuzz: 2, line: 19, offset: 5, gotFuzz: 2},
	{name: "ambiguous: nearest wins", file: twoCopies, hunks: "@@ -10,7 +10,7 @@\n" + pqrHunk, fuzz: 2, line: 9, offset: -1, gotFuzz: 2},
	{name: "ambiguous: nearest wins, later", file: twoCopies, hunks: "@@ -18,7 +18,7 @@\n" + pqrHunk, fuzz: 3, line: 19, offset: 1, gotFuzz: 2},
	// A short trailing context ties the hunk to the end of the file until
	// the fuzz covers the difference (3 - 1 = 2).
	{name: "short suffix anchored at end, fuzz 1",
		file: numbered(20, nil), hunks: "@@ -5,5 +5,5 @@\n line09\n line10\n line11\n-line12\n+X\n line13\n", fuzz: 1, fitsFuzz: 2},
	{name: "short suffix freed by fuzz 2",
		file: numbered(20, nil), hunks: "@@ -5,5 +5,5 @@\n line09\n line10\n line11\n-line12\n+X\n line13\n", fuzz: 2, line: 9, offset: 4, gotFuzz: 2},
	{name: "second hunk needs fuzz, first offset carries",
		file: numbered(40, map[int]string{0: "a\nb\n", 30: "x\n", 31: "y\n"}),
		hunks: "@@ -2,3 +2,4 @@\n line02\n+new\n line03\n line04\n" +
			"@@ -30,7 +31,7 @@\n line30\n line31\n line32\n-line33\n+LINE33\n line34\n line35\n line36\n",
		fuzz: 2, line: 32, offset: 2, gotFuzz: 2},
}

// TestApplyFuzz checks placements and refusals, and that GNU patch with the
// same --fuzz agrees on every outcome, resulting file and reported line.
func TestApplyFuzz(t *testing.T) {
	bin := needGNUPatch(t)
	report := regexp.MustCompile(`Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?`)
	for _, tc := range fuzzCases {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := t.TempDir(), t.TempDir()
			for _, d := range []string{ours, theirs} {
				require.NoError(t, os.WriteFile(filepath.Join(d, "f"), []byte(tc.file), 0o644))
			}
			pf := filepath.Join(t.TempDir(), "p.patch")
			require.NoError(t, os.WriteFile(pf, []byte("--- a/f\n+++ b/f\n"+tc.hunks), 0o644))
			res, err := Apply(context.Background(), ours, mustParse(t, pf), &ApplyOptions{Fuzz: tc.fuzz})

			cmd := exec.Command(bin, "-p1", "-F", strconv.Itoa(tc.fuzz), "--no-backup-if-mismatch", "-r", "-", "-i", pf)
			cmd.Dir = theirs
			out, gnuErr := cmd.CombinedOutput()
			require.Equal(t, gnuErr == nil, err == nil, "GNU patch: %s; klpkit: %v", out, err)
			assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))

			if tc.line == 0 {
				require.ErrorIs(t, err, ErrHunkFailed)
				var he *HunkError
				require.True(t, errors.As(err, &he))
				assert.Equal(t, tc.fitsFuzz, he.FitsFuzz, "fuzz the error suggests")
				if tc.fitsFuzz > 0 {
					assert.Contains(t, err.Error(), fmt.Sprintf("with fuzz %d it would apply", tc.fitsFuzz))
					assert.Contains(t, err.Error(), "ApplyOptions.Fuzz")
				}
				return
			}
			require.NoError(t, err)
			hunks := res.Files[0].Hunks
			last := hunks[len(hunks)-1]
			assert.Equal(t, []int{tc.line, tc.offset, tc.gotFuzz}, []int{last.At, last.Offset, last.Fuzz})

			// GNU patch reports the new-side line of every inexact hunk.
			gnu := map[int][2]int{}
			for _, m := range report.FindAllStringSubmatch(string(out), -1) {
				h, _ := strconv.Atoi(m[1])
				at, _ := strconv.Atoi(m[2])
				fz, _ := strconv.Atoi(m[3])
				gnu[h] = [2]int{at, fz}
			}
			var mine = map[int][2]int{}
			for _, p := range res.Inexact() {
				mine[p.Hunk] = [2]int{p.NewLine, p.Fuzz}
			}
			assert.Equal(t, gnu, mine, "GNU patch said:\n%s", out)
		})
	}
}

func TestApplyFuzzResultAndErrors(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "f"), []byte(numbered(30, map[int]string{0: "a\n", 10: "x\n", 11: "y\n"})), 0o644))
	p, err := Parse("fz.patch", []byte("--- a/f\n+++ b/f\n"+fuzzHunk), nil)
	require.NoError(t, err)
	ctx := context.Background()

	res, err := Apply(ctx, root, p, &ApplyOptions{Fuzz: 2, DryRun: true})
	require.NoError(t, err)
	want := Placement{Source: "fz.patch", File: "f", Hunk: 1, Line: 11, NewLine: 11, Offset: 1, Fuzz: 2}
	assert.Equal(t, []Placement{want}, res.Inexact())
	assert.Equal(t, []Placement{want}, res.Fuzzed())
	assert.Equal(t, "fz.patch: f: hunk #1 applied at line 11 with fuzz 2, offset 1 line", want.String())

	_, err = Apply(ctx, root, p, nil)
	require.ErrorIs(t, err, ErrHunkFailed)
	assert.Contains(t, err.Error(), "(fuzz 0; with fuzz 2 it would apply at line 11")

	_, err = Apply(ctx, root, p, &ApplyOptions{Fuzz: -1})
	require.ErrorContains(t, err, "apply: fuzz -1 is negative")
	_, err = Validate(ctx, p, &ValidateOptions{Tree: root})
	require.ErrorIs(t, err, ErrHunkFailed)
	_, err = Validate(ctx, p, &ValidateOptions{Tree: root, Fuzz: 2})
	require.NoError(t, err)
}

func TestPlacementString(t *testing.T) {
	for _, tc := range []struct {
		p    Placement
		want string
	}{
		{Placement{Source: "a.patch", File: "kernel/exit.c", Hunk: 2, Line: 890, NewLine: 891, Offset: 23, Fuzz: 2},
			"a.patch: kernel/exit.c: hunk #2 applied at line 890 (891 once patched) with fuzz 2, offset 23 lines"},
		{Placement{Source: "a.patch", File: "f", Hunk: 1, Line: 5, NewLine: 5, Offset: -1},
			"a.patch: f: hunk #1 applied at line 5, offset -1 line"},
		{Placement{Source: "a.patch", File: "f", Hunk: 3, Line: 7, NewLine: 9, Fuzz: 1},
			"a.patch: f: hunk #3 applied at line 7 (9 once patched) with fuzz 1"},
	} {
		assert.Equal(t, tc.want, tc.p.String())
	}
}
