// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func addPatchSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixturePatches, "*"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n",
		"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\r\n+b\r\n",
		"diff --git a/x b/y\nsimilarity index 90%\nrename from x\nrename to y\n",
		"--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n",
		"--- a/f\n+++ b/f\n@@ -1,x +1 @@\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse: any input parses or fails with an error; parsed paths stay in
// the tree, and a parsed patch survives Format and Parse again.
func FuzzParse(f *testing.F) {
	addPatchSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse("fuzz.patch", data, nil)
		if err != nil {
			return
		}
		for _, p := range ps {
			for _, fd := range p.Files {
				for _, path := range []string{fd.OldPath, fd.NewPath} {
					if path != "" && !filepath.IsLocal(path) {
						t.Fatalf("unsafe path %q accepted", path)
					}
				}
			}
			again, err := Parse("again.patch", p.Format(), nil)
			if err != nil {
				t.Fatalf("formatted patch does not parse: %v\n%s", err, p.Format())
			}
			if len(again) != 1 || len(again[0].Files) != len(p.Files) {
				t.Fatalf("round trip changed the file count:\n%s", p.Format())
			}
			for i, f := range p.Files {
				if g := again[0].Files[i]; g.Op != f.Op || g.OldPath != f.OldPath || g.NewPath != f.NewPath || len(g.Hunks) != len(f.Hunks) {
					t.Fatalf("round trip changed file %d: %v %q %q -> %v %q %q\n%s", i, f.Op, f.OldPath, f.NewPath, g.Op, g.OldPath, g.NewPath, p.Format())
				}
			}
		}
	})
}

// FuzzApply: applying any patch to any file never panics, a failure leaves
// the file alone, and a successful apply is undone by the reverse.
func FuzzApply(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"))
	f.Add([]byte("a\nb"), []byte("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"))
	f.Add([]byte("x\r\ny\r\n"), []byte("--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n x\n+z\n y\n"))
	f.Add([]byte("1\n2\n3\n4\n5\n6\n"), []byte("--- a/f\n+++ b/f\n@@ -4,2 +4,1 @@\n 5\n-6\n"))
	f.Fuzz(func(t *testing.T, content, patch []byte) {
		ps, err := Parse("fuzz.patch", patch, &ParseOptions{Strip: StripP(1)})
		if err != nil {
			return
		}
		root := t.TempDir()
		target := filepath.Join(root, "f")
		if err := os.WriteFile(target, content, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := Apply(ctx, root, ps, &ApplyOptions{DryRun: true}); err != nil {
			return
		}
		if got, _ := os.ReadFile(target); string(got) != string(content) {
			t.Fatal("dry run changed the file")
		}
		if _, err := Apply(ctx, root, ps, nil); err != nil {
			t.Fatalf("dry run succeeded but apply failed: %v", err)
		}
		if _, err := Apply(ctx, root, ps, &ApplyOptions{Reverse: true}); err != nil {
			return // e.g. a hunk whose context the patch itself duplicated
		}
		got, err := os.ReadFile(target)
		if err == nil && string(got) != string(content) {
			t.Fatalf("apply + reverse changed %q into %q", content, got)
		}
	})
}
