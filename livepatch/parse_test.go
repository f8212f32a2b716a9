// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type wantFile struct {
	op               Op
	oldPath, newPath string
	hunks            int
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file     string
		subjects []string
		strip    int
		files    [][]wantFile // per patch
	}{
		{
			file: "cmdline-marker.patch", subjects: []string{"proc: mark /proc/cmdline as live patched"}, strip: 1,
			files: [][]wantFile{{{OpModify, "fs/proc/cmdline.c", "fs/proc/cmdline.c", 1}}},
		},
		{
			file: "demo-series.mbox", strip: 1,
			subjects: []string{"demo: bound demo_check by DEMO_MAX_USERS", "demo: return -ERANGE for too many users"},
			files: [][]wantFile{
				{{OpModify, "kernel/demo.c", "kernel/demo.c", 1}},
				{{OpModify, "kernel/demo.c", "kernel/demo.c", 1}},
			},
		},
		{
			file: "cmdline-nupr.patch", subjects: []string{""}, strip: 1,
			files: [][]wantFile{{
				{OpModify, "fs/proc/cmdline.c", "fs/proc/cmdline.c", 1},
				{OpCreate, "", "fs/proc/klp_marker.c", 1},
			}},
		},
		{
			file: "demo-quilt.patch", subjects: []string{"demo: check the put count and report the limit"}, strip: 1,
			files: [][]wantFile{{{OpModify, "kernel/demo.c", "kernel/demo.c", 2}}},
		},
		{
			file: "file-ops.patch", subjects: []string{"demo: move lib helper, add extra, drop Kconfig"}, strip: 1,
			files: [][]wantFile{{
				{OpModify, "arch/x86/kernel/demo_entry.S", "arch/x86/kernel/demo_entry.S", 0},
				{OpDelete, "kernel/Kconfig.demo", "", 1},
				{OpCreate, "", "kernel/demo_extra.c", 1},
				{OpRename, "lib/demo_lib.c", "kernel/demo_lib.c", 1},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ps := mustParse(t, fixture(tc.file))
			require.Len(t, ps, len(tc.files))
			for i, p := range ps {
				assert.Equal(t, tc.subjects[i], p.Subject)
				assert.Equal(t, tc.strip, p.Strip)
				require.Len(t, p.Files, len(tc.files[i]))
				for j, w := range tc.files[i] {
					f := p.Files[j]
					assert.Equal(t, w, wantFile{f.Op, f.OldPath, f.NewPath, len(f.Hunks)}, "file %d", j)
				}
			}
		})
	}
}

func TestParseDetails(t *testing.T) {
	ps := mustParse(t, fixture("file-ops.patch"))
	f := ps[0].Files
	assert.Equal(t, [2]uint32{0o644, 0o755}, [2]uint32{uint32(f[0].OldMode), uint32(f[0].NewMode)}, "mode change")
	assert.Equal(t, uint32(0o644), uint32(f[2].NewMode), "new file mode")
	assert.Equal(t, 17, f[0].Line)

	ps = mustParse(t, fixture("cmdline-marker.patch"))
	h := ps[0].Files[0].Hunks[0]
	assert.Equal(t, 15, h.Line)
	assert.Equal(t, [4]int{11, 6, 11, 7}, [4]int{h.OldStart, h.OldLines, h.NewStart, h.NewLines})
	assert.Equal(t, "static int cmdline_proc_show(struct seq_file *m, void *v)", h.Section)
	assert.Len(t, h.OldSide(), 6)
	assert.Equal(t, "\tseq_puts(m, \" klp\");", h.NewSide()[3])
}

func TestParseNoNewlineAndCRLF(t *testing.T) {
	in := "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n\\ No newline at end of file\n+c\r\n\\ No newline at end of file\n"
	ps, err := Parse("crlf.patch", []byte(in), nil)
	require.NoError(t, err)
	h := ps[0].Files[0].Hunks[0]
	assert.True(t, h.OldNoEOL)
	assert.True(t, h.NewNoEOL)
	assert.Equal(t, []string{"a\r", "b\r"}, h.OldSide())
	assert.Equal(t, []string{"a\r", "c\r"}, h.NewSide())
}

func TestParseStrip(t *testing.T) {
	body := "@@ -1 +1 @@\n-a\n+b\n"
	tests := []struct {
		name, header string
		opts         *ParseOptions
		want         string
		strip        int
	}{
		{"git a/b", "--- a/kernel/x.c\n+++ b/kernel/x.c\n", nil, "kernel/x.c", 1},
		{"p0 kernel path", "--- kernel/x.c\n+++ kernel/x.c\n", nil, "kernel/x.c", 0},
		{"two trees", "--- linux.orig/kernel/x.c\n+++ linux/kernel/x.c\n", nil, "kernel/x.c", 1},
		{"same dir prefix", "--- linux/kernel/x.c\n+++ linux/kernel/x.c\n", nil, "kernel/x.c", 1},
		{"given p2", "--- x/y/kernel/x.c\n+++ x/y/kernel/x.c\n", &ParseOptions{Strip: StripP(2)}, "kernel/x.c", 2},
		{"given p0", "--- a/kernel/x.c\n+++ a/kernel/x.c\n", &ParseOptions{Strip: StripP(0)}, "a/kernel/x.c", 0},
		{"tree decides", "--- src/demo.h\n+++ src/demo.h\n", &ParseOptions{Tree: fixtureTree + "/include"}, "demo.h", 1},
		{"tree decides p0", "--- linux/demo.h\n+++ linux/demo.h\n", &ParseOptions{Tree: fixtureTree + "/include"}, "linux/demo.h", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Parse("x.patch", []byte(tc.header+body), tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ps[0].Files[0].NewPath)
			assert.Equal(t, tc.strip, ps[0].Strip)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		sentinel error
		msg      string
	}{
		{"empty", "", 0, ErrMalformedPatch, "no file diffs"},
		{"prose only", "Just a mail.\nNo diff here.\n", 0, ErrMalformedPatch, "no file diffs"},
		{"absolute", "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", 1, ErrUnsafePath, "absolute"},
		{"dotdot", "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", 1, ErrUnsafePath, ".."},
		{"dotdot git", "diff --git a/x b/../x\n--- a/x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", 1, ErrUnsafePath, ".."},
		{"bad hunk header", "--- a/x\n+++ b/x\n@@ -1,x +1 @@\n-a\n+b\n", 3, ErrMalformedPatch, "bad hunk header"},
		{"truncated", "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", 5, ErrMalformedPatch, "truncated"},
		{"garbage in hunk", "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n?b\n c\n", 5, ErrMalformedPatch, "unexpected line"},
		{"too many lines", "--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a\n+b\n+c\n@@ -5 +5 @@\n-x\n+y\n", 6, ErrMalformedPatch, ""},
		{"start zero", "--- a/x\n+++ b/x\n@@ -0,2 +1,2 @@\n a\n b\n", 3, ErrMalformedPatch, "line 0"},
		{"binary", "diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\nliteral 3\nKcmZ?\n\nliteral 0\nHcmV?d00001\n\n", 0, ErrBinaryPatch, "binary"},
		{"nul", "--- a/x\n+++ b/x\n\x00", 0, ErrBinaryPatch, "NUL"},
		{"only in", "Only in linux/fs: new.c\n", 0, ErrMalformedPatch, "diff -N"},
		{"strip too deep", "--- x.c\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n", 1, ErrUnsafePath, "components"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := &ParseOptions{}
			if tc.name == "strip too deep" {
				opts.Strip = StripP(1)
			}
			_, err := Parse("bad.patch", []byte(tc.in), opts)
			require.Error(t, err)
			require.ErrorIs(t, err, tc.sentinel)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "want *ParseError, got %T", err)
			assert.Equal(t, "bad.patch", pe.Source)
			if tc.line > 0 {
				assert.Equal(t, tc.line, pe.Line, err.Error())
			}
			assert.True(t, strings.Contains(err.Error(), tc.msg), "error %q lacks %q", err, tc.msg)
		})
	}
	_, err := ParseFiles([]string{fixture("binary.patch")}, nil)
	require.ErrorIs(t, err, ErrBinaryPatch)
	assert.Contains(t, err.Error(), "blob.bin")
}

func TestParseSeries(t *testing.T) {
	ps, err := ParseSeries("../testdata/livepatch/quilt", nil)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, 1, ps[0].Strip)
	assert.Equal(t, 0, ps[1].Strip)
	assert.Equal(t, "fs/proc/cmdline.c", ps[1].Files[0].NewPath)
	res, err := Apply(context.Background(), fixtureTree, ps, &ApplyOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"kernel/demo.c", "fs/proc/cmdline.c"}, res.Changed)

	dir := t.TempDir()
	write := func(series string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "series"), []byte(series), 0o644))
	}
	write("../escape.patch\n")
	_, err = ParseSeries(dir, nil)
	require.ErrorIs(t, err, ErrUnsafePath)
	write("# only comments\n\n")
	_, err = ParseSeries(dir, nil)
	require.ErrorIs(t, err, ErrNoPatches)
	write("x.patch -R\n")
	_, err = ParseSeries(dir, nil)
	require.ErrorIs(t, err, ErrMalformedPatch)
	assert.Contains(t, err.Error(), "series:1")
}
