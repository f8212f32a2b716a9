// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hunk = "@@ -1 +1 @@\n-a\n+b\n"

// A quote that opens a file name must close it; the error names the line.
func TestParseBadQuotedNames(t *testing.T) {
	for _, tc := range []struct {
		name, patch string
		line        int
	}{
		{"lone quote on +++", "--- a/x\n+++ \"\n" + hunk, 2},
		{"lone quotes", "--- \"\n+++ \"\n" + hunk, 1},
		{"unterminated ---", "--- \"a/x\n+++ b/x\n" + hunk, 1},
		{"unterminated with timestamp", "--- a/x\n+++ \"b/x\t2024-01-01 00:00:00 +0000\n" + hunk, 2},
		{"unknown escape", "--- \"a/\\qx\"\n+++ \"b/\\qx\"\n" + hunk, 1},
		{"text after the quote", "--- \"a/x\"y\n+++ b/x\n" + hunk, 1},
		{"diff --git", "diff --git \"a/x b/x\nold mode 100644\nnew mode 100755\n", 1},
		{"rename to", "diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to \"y\n", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("q.patch", []byte(tc.patch), nil)
			require.ErrorIs(t, err, ErrMalformedPatch)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.line, pe.Line, err.Error())
			assert.Contains(t, err.Error(), "quoted file name")
		})
	}
}

// git quotes names with C escapes; they parse to the bytes they stand for.
func TestParseQuotedNames(t *testing.T) {
	for _, tc := range []struct {
		name, patch, want string
	}{
		{"octal utf-8 and quotes", "--- \"a/t\\303\\251st \\\"q\\\".c\"\n+++ \"b/t\\303\\251st \\\"q\\\".c\"\n" + hunk, "t\u00e9st \"q\".c"},
		{"tab and newline", "--- \"a/x\\ty\\nz\"\n+++ \"b/x\\ty\\nz\"\n" + hunk, "x\ty\nz"},
		{"quoted with timestamp", "--- \"a/s p\"\t2024-01-01 00:00:00 +0000\n+++ \"b/s p\"\t2024-01-01 00:00:00 +0000\n" + hunk, "s p"},
		{"diff --git header only", "diff --git \"a/m \\\"o\\\"\" \"b/m \\\"o\\\"\"\nold mode 100644\nnew mode 100755\n", "m \"o\""},
		{"a quote inside an unquoted name", "--- a/x\"y\n+++ b/x\"y\n" + hunk, "x\"y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Parse("q.patch", []byte(tc.patch), nil)
			require.NoError(t, err)
			require.Len(t, ps[0].Files, 1)
			assert.Equal(t, tc.want, ps[0].Files[0].NewPath)
			assertRoundTrip(t, ps[0])
		})
	}
}

// A backslash in a name is refused (stripPath: a Windows separator), so it
// has no round trip to keep.

// Format quotes what needs quoting, so that Parse reads back the same
// files: parse, format, parse gives the same patch.
func TestFormatRoundTripOddNames(t *testing.T) {
	for _, name := range []string{`"`, `a"b`, `sp ace`, "tab\tx", "new\nline", "bell\a", "caf\u00e9.c", "trailing ", `"quoted"`} {
		t.Run(name, func(t *testing.T) {
			for _, p := range []*Patch{
				{Files: []*FileDiff{{Op: OpModify, OldPath: name, NewPath: name, Hunks: []*Hunk{{OldStart: 1, OldLines: 1, NewStart: 1, NewLines: 1,
					Lines: []Line{{Kind: '-', Text: "a"}, {Kind: '+', Text: "b"}}}}}}},
				{Files: []*FileDiff{{Op: OpRename, OldPath: "old/" + name, NewPath: name}}},
				{Files: []*FileDiff{{Op: OpCreate, NewPath: name, Hunks: []*Hunk{{NewStart: 1, NewLines: 1, Lines: []Line{{Kind: '+', Text: "x"}}}}}}},
			} {
				assertRoundTrip(t, p)
			}
		})
	}
}

func assertRoundTrip(t *testing.T, p *Patch) {
	t.Helper()
	text := p.Format()
	again, err := Parse("again.patch", text, &ParseOptions{Strip: StripP(1)})
	require.NoError(t, err, "%s", text)
	require.Len(t, again, 1)
	require.Len(t, again[0].Files, len(p.Files), "%s", text)
	for i, f := range p.Files {
		g := again[0].Files[i]
		assert.Equal(t, f.Op, g.Op, "%s", text)
		assert.Equal(t, f.OldPath, g.OldPath, "%s", text)
		assert.Equal(t, f.NewPath, g.NewPath, "%s", text)
		assert.Equal(t, len(f.Hunks), len(g.Hunks), "%s", text)
	}
	assert.Equal(t, string(text), string(again[0].Format()), "format is stable")
}

// The fuzzer's finding stays in FuzzParse's corpus.
func TestFuzzCorpusHasLoneQuote(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParse", "lone-quote"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `+++ \"`)
}
