// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gnuPatch applies files in order with GNU patch -p1 --fuzz=0.
func gnuPatch(t *testing.T, bin, dir string, reverse bool, files ...string) error {
	t.Helper()
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		args := []string{"-p1", "--fuzz=0", "-s", "--no-backup-if-mismatch", "-r", "-", "-i", abs}
		if reverse {
			args = append(args, "-R")
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return errors.New(string(out))
		}
	}
	return nil
}

var applyCases = []struct {
	name    string
	patches []string
	mbox    bool // GNU patch -R reverses an mbox's mails in file order; skip that comparison
}{
	{"format-patch", []string{"cmdline-marker.patch"}, false},
	{"mbox series", []string{"demo-series.mbox"}, true},
	{"diff -Nupr with new file", []string{"cmdline-nupr.patch"}, false},
	{"quilt with offsets", []string{"demo-quilt.patch"}, false},
	{"git file ops", []string{"file-ops.patch"}, false},
	{"several patches in order", []string{"demo-series.mbox", "demo-quilt.patch", "cmdline-marker.patch"}, true},
}

func TestApplyMatchesGNUPatch(t *testing.T) {
	bin := needGNUPatch(t)
	ctx := context.Background()
	for _, tc := range applyCases {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			for _, p := range tc.patches {
				files = append(files, fixture(p))
			}
			ours, theirs := copyTree(t, fixtureTree), copyTree(t, fixtureTree)
			pristine := snapshot(t, ours)
			patches := mustParse(t, files...)

			res, err := Apply(ctx, ours, patches, &ApplyOptions{DryRun: true})
			require.NoError(t, err)
			require.NotEmpty(t, res.Changed)
			assert.Equal(t, pristine, snapshot(t, ours), "dry run changed the tree")

			_, err = Apply(ctx, ours, patches, nil)
			require.NoError(t, err)
			require.NoError(t, gnuPatch(t, bin, theirs, false, files...))
			assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))

			_, err = Apply(ctx, ours, patches, &ApplyOptions{Reverse: true})
			require.NoError(t, err)
			if !tc.mbox {
				for i := len(files) - 1; i >= 0; i-- {
					require.NoError(t, gnuPatch(t, bin, theirs, true, files[i]))
				}
				assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))
			}
			assert.Equal(t, pristine, snapshot(t, ours), "reverse did not restore the tree")
		})
	}
}

func TestApplyReportsOffsets(t *testing.T) {
	root := copyTree(t, fixtureTree)
	res, err := Apply(context.Background(), root, mustParse(t, fixture("demo-quilt.patch")), &ApplyOptions{DryRun: true})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	assert.Equal(t, []HunkResult{{Hunk: 1, At: 43, Offset: -4, NewAt: 43}, {Hunk: 2, At: 56, Offset: -7, NewAt: 57}}, res.Files[0].Hunks)
}

func TestApplyFailureIsAllOrNothing(t *testing.T) {
	root := copyTree(t, fixtureTree)
	pristine := snapshot(t, root)
	// The second mail depends on the first: alone it must fail, and the
	// first file diff of the set (cmdline) must not be written either.
	series := mustParse(t, fixture("demo-series.mbox"))
	patches := append(mustParse(t, fixture("cmdline-marker.patch")), series[1])
	_, err := Apply(context.Background(), root, patches, nil)
	require.ErrorIs(t, err, ErrHunkFailed)
	var he *HunkError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, "kernel/demo.c", he.File)
	assert.Equal(t, 1, he.Hunk)
	assert.Equal(t, 40, he.Line)
	assert.Contains(t, he.Expected, "\tif (n > demo_limit || n > DEMO_MAX_USERS)")
	assert.Contains(t, err.Error(), "demo-series.mbox: kernel/demo.c: hunk #1 (patch line 40) does not apply")
	assert.Equal(t, pristine, snapshot(t, root))
}

func TestApplyRollbackOnWriteFailure(t *testing.T) {
	patches := mustParse(t, fixture("cmdline-nupr.patch"), fixture("file-ops.patch"))
	for failAt := 1; failAt <= 9; failAt++ {
		root := copyTree(t, fixtureTree)
		pristine := snapshot(t, root)
		calls := 0
		opts := &ApplyOptions{rename: func(a, b string) error {
			calls++
			if calls == failAt {
				return errors.New("injected rename failure")
			}
			return os.Rename(a, b)
		}}
		_, err := Apply(context.Background(), root, patches, opts)
		require.Error(t, err, "fail at rename %d", failAt)
		assert.Contains(t, err.Error(), "injected")
		assert.Equal(t, pristine, snapshot(t, root), "tree not restored after failing rename %d", failAt)
		_, statErr := os.Stat(filepath.Join(root, "fs/proc/klp_marker.c"))
		assert.True(t, os.IsNotExist(statErr))
	}
}

func TestApplyFileErrors(t *testing.T) {
	ctx := context.Background()
	root := copyTree(t, fixtureTree)
	_, err := Apply(ctx, root, mustParse(t, fixture("cmdline-nupr.patch"), fixture("cmdline-nupr.patch")), nil)
	require.ErrorIs(t, err, ErrHunkFailed, "second copy of the same patch must not apply")

	p, err := Parse("missing.patch", []byte("--- a/kernel/nope.c\n+++ b/kernel/nope.c\n@@ -1 +1 @@\n-a\n+b\n"), nil)
	require.NoError(t, err)
	_, err = Apply(ctx, root, p, nil)
	require.ErrorIs(t, err, ErrFileMissing)
	assert.Contains(t, err.Error(), "kernel/nope.c")

	p, err = Parse("exists.patch", []byte("--- /dev/null\n+++ b/kernel/demo.c\n@@ -0,0 +1 @@\n+x\n"), nil)
	require.NoError(t, err)
	_, err = Apply(ctx, root, p, nil)
	require.ErrorIs(t, err, ErrFileExists)

	_, err = Apply(ctx, root, nil, nil)
	require.ErrorIs(t, err, ErrNoPatches)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Apply(cctx, root, mustParse(t, fixture("cmdline-marker.patch")), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestApplyNoNewlineAndCRLF(t *testing.T) {
	bin := needGNUPatch(t)
	tests := []struct{ name, file, patch string }{
		{"add newline at EOF", "a\nb", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"drop newline at EOF", "a\nb\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"},
		{"change last line without newline", "a\nb", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"append after no-newline line", "a", "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n"},
		{"crlf patch on crlf file", "a\r\nb\r\nc\r\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\r\n-b\r\n+B\r\n c\r\n"},
		{"delete to empty", "a\n", "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := t.TempDir(), t.TempDir()
			for _, d := range []string{ours, theirs} {
				require.NoError(t, os.WriteFile(filepath.Join(d, "f"), []byte(tc.file), 0o644))
			}
			pf := filepath.Join(t.TempDir(), "p.patch")
			require.NoError(t, os.WriteFile(pf, []byte(tc.patch), 0o644))
			_, err := Apply(context.Background(), ours, mustParse(t, pf), nil)
			require.NoError(t, err)
			require.NoError(t, gnuPatch(t, bin, theirs, false, pf))
			assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))
		})
	}
}

func TestApplyLFPatchOnCRLFFile(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "f"), []byte("a\r\nb\r\nc\r\n"), 0o644))
	p, err := Parse("lf.patch", []byte("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"), nil)
	require.NoError(t, err)
	_, err = Apply(context.Background(), root, p, nil)
	require.NoError(t, err)
	got, _ := os.ReadFile(filepath.Join(root, "f"))
	assert.Equal(t, "a\r\nB\r\nc\r\n", string(got))
}

func TestApplyRefusesSymlinkedParent(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "f"), []byte("a\n"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "dir")))
	p, err := Parse("s.patch", []byte("--- a/dir/f\n+++ b/dir/f\n@@ -1 +1 @@\n-a\n+b\n"), nil)
	require.NoError(t, err)
	_, err = Apply(context.Background(), root, p, nil)
	require.ErrorIs(t, err, ErrUnsafePath)
	got, _ := os.ReadFile(filepath.Join(outside, "f"))
	assert.Equal(t, "a\n", string(got))
	assert.False(t, strings.Contains(err.Error(), outside))
}

// TestApplyContextAnchorsLikeGNU: hunks with uneven context are anchored at
// a file edge, and hunks that moved still apply, exactly as GNU patch
// --fuzz=0 decides.
func TestApplyContextAnchorsLikeGNU(t *testing.T) {
	bin := needGNUPatch(t)
	var file strings.Builder
	for i := 1; i <= 20; i++ {
		file.WriteString(strconv.Itoa(i) + "\n")
	}
	cases := map[string]string{
		"even context, moved":         "@@ -5,5 +5,5 @@\n 8\n 9\n-10\n+X\n 11\n 12\n",
		"short prefix, middle":        "@@ -9,5 +9,5 @@\n 9\n-10\n+X\n 11\n 12\n 13\n",
		"short prefix, moved":         "@@ -5,5 +5,5 @@\n 9\n-10\n+X\n 11\n 12\n 13\n",
		"short prefix, claims line 1": "@@ -1,5 +1,5 @@\n 9\n-10\n+X\n 11\n 12\n 13\n",
		"short prefix, at start":      "@@ -2,5 +2,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n",
		"short suffix, middle":        "@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+X\n 12\n",
		"short suffix, at end":        "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+X\n 20\n",
		"short suffix, moved to end":  "@@ -10,5 +10,5 @@\n 16\n 17\n 18\n-19\n+X\n 20\n",
		"no context":                  "@@ -10 +10 @@\n-10\n+X\n",
		"pure insert":                 "@@ -10,0 +11 @@\n+X\n",
	}
	for name, hunk := range cases {
		t.Run(name, func(t *testing.T) {
			ours, theirs := t.TempDir(), t.TempDir()
			for _, d := range []string{ours, theirs} {
				require.NoError(t, os.WriteFile(filepath.Join(d, "f"), []byte(file.String()), 0o644))
			}
			pf := filepath.Join(t.TempDir(), "p.patch")
			require.NoError(t, os.WriteFile(pf, []byte("--- a/f\n+++ b/f\n"+hunk), 0o644))
			_, ourErr := Apply(context.Background(), ours, mustParse(t, pf), nil)
			gnuErr := gnuPatch(t, bin, theirs, false, pf)
			require.Equal(t, gnuErr == nil, ourErr == nil, "GNU patch: %v; klpkit: %v", gnuErr, ourErr)
			assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))
		})
	}
}

func TestApplyCRLFPatchFile(t *testing.T) {
	data, err := os.ReadFile(fixture("cmdline-marker.patch"))
	require.NoError(t, err)
	crlf := strings.ReplaceAll(string(data), "\n", "\r\n")
	ps, err := Parse("crlf-mail.patch", []byte(crlf), nil)
	require.NoError(t, err)
	assert.Equal(t, "proc: mark /proc/cmdline as live patched", ps[0].Subject)
	ours, want := copyTree(t, fixtureTree), copyTree(t, fixtureTree)
	_, err = Apply(context.Background(), ours, ps, nil)
	require.NoError(t, err)
	_, err = Apply(context.Background(), want, mustParse(t, fixture("cmdline-marker.patch")), nil)
	require.NoError(t, err)
	assert.Equal(t, snapshot(t, want), snapshot(t, ours))
}
