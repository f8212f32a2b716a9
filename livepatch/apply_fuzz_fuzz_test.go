// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzApplyWithFuzz: with fuzz, applying any patch to any file never
// panics; where fuzz 0 applies, fuzz 2 gives the same file with no hunk
// fuzzed (full context is always tried first); no hunk takes more fuzz than
// allowed or than its context.
func FuzzApplyWithFuzz(f *testing.F) {
	f.Add([]byte("a\nb\nc\nd\ne\nf\ng\n"), []byte("--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"))
	f.Add([]byte("x\ny\nc\nd\ne\nf\ng\n"), []byte("--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"))
	f.Add([]byte("1\n2\n3\n4\n5\n"), []byte("--- a/f\n+++ b/f\n@@ -2,4 +2,4 @@\n 2\n 3\n-4\n+X\n 9\n"))
	f.Fuzz(func(t *testing.T, content, patch []byte) {
		ps, err := Parse("fuzz.patch", patch, &ParseOptions{Strip: StripP(1)})
		if err != nil {
			return
		}
		ctx := context.Background()
		run := func(fuzz int) (*ApplyResult, []byte, error) {
			root := t.TempDir()
			target := filepath.Join(root, "f")
			if err := os.WriteFile(target, content, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Apply(ctx, root, ps, &ApplyOptions{Fuzz: fuzz})
			got, _ := os.ReadFile(target)
			if err != nil && string(got) != string(content) {
				t.Fatalf("failed apply with fuzz %d changed the file", fuzz)
			}
			return res, got, err
		}
		_, exact, err0 := run(0)
		res, fuzzed, err2 := run(2)
		if err0 == nil {
			if err2 != nil {
				t.Fatalf("applies with fuzz 0 but not with fuzz 2: %v", err2)
			}
			if string(exact) != string(fuzzed) {
				t.Fatalf("fuzz 2 changed a result fuzz 0 gives: %q vs %q", exact, fuzzed)
			}
			if len(res.Fuzzed()) > 0 {
				t.Fatalf("fuzz reported where full context matched: %v", res.Fuzzed())
			}
		}
		if err2 != nil {
			return
		}
		i := 0
		for _, p := range ps {
			for _, fd := range p.Files {
				fr := res.Files[i]
				i++
				for _, h := range fr.Hunks {
					if h.Fuzz > 2 || h.Fuzz > fd.Hunks[h.Hunk-1].maxFuzz() {
						t.Fatalf("hunk %d took fuzz %d (context %d)", h.Hunk, h.Fuzz, fd.Hunks[h.Hunk-1].maxFuzz())
					}
				}
			}
		}
	})
}
