// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// Patches written against the lab kernel's source (Debian 6.1, issue "Test
// lab"); see testdata/livepatch/lab.
const labPatches = "../testdata/livepatch/lab"

// labSource returns the lab's prepared kernel source tree, or skips.
func labSource(t testing.TB) string {
	t.Helper()
	l := vmtest.RequireLab(t)
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without its source tree: run `make lab`")
	}
	return l.SourceDir
}

// touchedPaths lists every tree path the patches read or write.
func touchedPaths(ps []*Patch) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		for _, f := range p.Files {
			for _, rel := range []string{f.OldPath, f.NewPath} {
				if rel != "" && !seen[rel] {
					seen[rel] = true
					out = append(out, rel)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// copyFiles copies the named files (those that exist) from src into a new
// temp dir, so the shared lab tree is never written.
func copyFiles(t testing.TB, src string, rels []string) string {
	t.Helper()
	dst := t.TempDir()
	for _, rel := range rels {
		data, err := os.ReadFile(filepath.Join(src, rel))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		p := filepath.Join(dst, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return dst
}

func readAll(t testing.TB, root string, rels []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rel := range rels {
		if data, err := os.ReadFile(filepath.Join(root, rel)); err == nil {
			out[rel] = string(data)
		}
	}
	return out
}

// TestLabKernelTree applies, dry-runs, reverses and combines patches on the
// real lab kernel tree and compares every result with GNU patch.
func TestLabKernelTree(t *testing.T) {
	src := labSource(t)
	bin := needGNUPatch(t)
	ctx := context.Background()
	sets := []struct {
		files []string
		mbox  bool
	}{
		{[]string{"cmdline-marker.patch"}, false},
		{[]string{"uptime-series.mbox"}, true},
		{[]string{"version-nupr.patch"}, false},
		{[]string{"meminfo-quilt.patch"}, false},
		{[]string{"cmdline-marker.patch", "uptime-series.mbox", "version-nupr.patch", "meminfo-quilt.patch"}, true},
	}
	for _, set := range sets {
		t.Run(strings.Join(set.files, "+"), func(t *testing.T) {
			var files []string
			for _, f := range set.files {
				files = append(files, filepath.Join(labPatches, f))
			}
			ps, err := ParseFiles(files, &ParseOptions{Tree: src})
			require.NoError(t, err)
			rels := touchedPaths(ps)
			pristine := readAll(t, src, rels)

			// Dry run on the real tree: checks everything, writes nothing.
			res, err := Apply(ctx, src, ps, &ApplyOptions{DryRun: true})
			require.NoError(t, err)
			assert.ElementsMatch(t, rels, res.Changed)
			assert.Equal(t, pristine, readAll(t, src, rels), "dry run wrote to the lab tree")

			// For real and in reverse, on copies, against GNU patch.
			ours, theirs := copyFiles(t, src, rels), copyFiles(t, src, rels)
			_, err = Apply(ctx, ours, ps, nil)
			require.NoError(t, err)
			require.NoError(t, gnuPatch(t, bin, theirs, false, files...))
			assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))
			patched := snapshot(t, ours)

			_, err = Apply(ctx, ours, ps, &ApplyOptions{Reverse: true})
			require.NoError(t, err)
			assert.Equal(t, pristine, readAll(t, ours, rels))
			if !set.mbox {
				require.NoError(t, gnuPatch(t, bin, theirs, true, files...))
				assert.Equal(t, snapshot(t, theirs), snapshot(t, ours))
			}

			// The cumulative patch does what the set does.
			combined, err := Combine(ctx, src, ps)
			require.NoError(t, err)
			again, err := Parse("combined.patch", combined.Format(), nil)
			require.NoError(t, err)
			fresh := copyFiles(t, src, rels)
			_, err = Apply(ctx, fresh, again, nil)
			require.NoError(t, err)
			assert.Equal(t, patched, snapshot(t, fresh))
		})
	}
}

// TestLabKernelValidate validates the lab patches against the real tree
// and from hunk context alone.
func TestLabKernelValidate(t *testing.T) {
	src := labSource(t)
	cases := []struct {
		file string
		want []string
		// treeOnly: findings that need the whole file (line shifts far below).
		treeOnly []string
	}{
		{"cmdline-marker.patch", nil, nil},
		{"uptime-series.mbox", nil, nil},
		{"version-nupr.patch", nil, nil},
		{"meminfo-quilt.patch", nil, nil},
		{"cmdline-init.patch", []string{RuleInitCode}, nil},
		{"umask-syscall.patch", []string{RuleSyscallDefine}, nil},
		{"seq-file-struct.patch", []string{RuleHeaderStruct}, []string{RuleLineShift}},
	}
	for _, tc := range cases {
		for _, tree := range []string{src, ""} {
			name := tc.file + "/tree"
			want := append(append([]string(nil), tc.want...), tc.treeOnly...)
			if tree == "" {
				name, want = tc.file+"/hunk-context", tc.want
			}
			t.Run(name, func(t *testing.T) {
				ps, err := ParseFiles([]string{filepath.Join(labPatches, tc.file)}, &ParseOptions{Tree: tree})
				require.NoError(t, err)
				fs, err := Validate(context.Background(), ps, &ValidateOptions{Tree: tree})
				require.NoError(t, err)
				assert.ElementsMatch(t, want, rulesOf(fs), "%v", fs)
			})
		}
	}
}

// BenchmarkApplyLabTree50Files dry-runs a generated 50-file patch against
// the lab kernel tree (a dry run reads the real files and writes nothing).
func BenchmarkApplyLabTree50Files(b *testing.B) {
	src := labSource(b)
	var rels []string
	_ = filepath.WalkDir(filepath.Join(src, "fs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(rels) == 50 {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".c") {
			rel, _ := filepath.Rel(src, p)
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	require.Len(b, rels, 50)
	p := &Patch{Source: "bench.patch"}
	for _, rel := range rels {
		data, err := os.ReadFile(filepath.Join(src, rel))
		require.NoError(b, err)
		before := fileFromBytes(data, 0o644)
		after := before.clone()
		mid := len(after.lines) / 2
		after.lines = append(after.lines[:mid:mid], append([]string{"/* klpkit benchmark */"}, after.lines[mid:]...)...)
		p.Files = append(p.Files, diffFile(rel, before, after)...)
	}
	ps, err := Parse("bench.patch", p.Format(), nil)
	require.NoError(b, err)
	ctx := context.Background()
	for b.Loop() {
		if _, err := Apply(ctx, src, ps, &ApplyOptions{DryRun: true}); err != nil {
			b.Fatal(err)
		}
	}
}
