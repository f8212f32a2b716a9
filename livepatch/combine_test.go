// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCombineEqualsSequence(t *testing.T) {
	ctx := context.Background()
	sets := [][]string{
		{"demo-series.mbox"},
		{"demo-series.mbox", "demo-quilt.patch", "cmdline-marker.patch"},
		{"cmdline-nupr.patch", "file-ops.patch"},
	}
	for _, set := range sets {
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			var files []string
			for _, s := range set {
				files = append(files, fixture(s))
			}
			patches := mustParse(t, files...)
			seq := copyTree(t, fixtureTree)
			_, err := Apply(ctx, seq, patches, nil)
			require.NoError(t, err)

			pristine := copyTree(t, fixtureTree)
			before := snapshot(t, pristine)
			combined, err := Combine(ctx, pristine, patches)
			require.NoError(t, err)
			assert.Equal(t, before, snapshot(t, pristine), "Combine must not touch the tree")

			text := combined.Format()
			reparsed, err := Parse("combined.patch", text, nil)
			require.NoError(t, err, string(text))
			_, err = Apply(ctx, pristine, reparsed, nil)
			require.NoError(t, err, string(text))
			assert.Equal(t, snapshot(t, seq), snapshot(t, pristine))

			if bin, err := findPatch(); err == nil {
				gnu := copyTree(t, fixtureTree)
				pf := filepath.Join(t.TempDir(), "combined.patch")
				require.NoError(t, os.WriteFile(pf, text, 0o644))
				require.NoError(t, gnuPatch(t, bin, gnu, false, pf))
				assert.Equal(t, snapshot(t, seq), snapshot(t, gnu), "GNU patch disagrees on the combined patch")
			}
		})
	}
}

func TestCombineSeriesIsOneHunk(t *testing.T) {
	combined, err := Combine(context.Background(), fixtureTree, mustParse(t, fixture("demo-series.mbox")))
	require.NoError(t, err)
	want := `diff --git a/kernel/demo.c b/kernel/demo.c
--- a/kernel/demo.c
+++ b/kernel/demo.c
@@ -24,8 +24,8 @@ static int demo_check(int n)
 {
 	if (n < 0)
 		return -EINVAL;
-	if (n > demo_limit)
-		return -E2BIG;
+	if (n > demo_limit || n > DEMO_MAX_USERS)
+		return -ERANGE;
 	return 0;
 }
 
`
	assert.Equal(t, want, string(combined.Format()))
}

func TestCombineNothing(t *testing.T) {
	p := mustParse(t, fixture("cmdline-marker.patch"))
	_, err := Combine(context.Background(), fixtureTree, []*Patch{p[0], p[0].Reverse()})
	require.ErrorIs(t, err, ErrNoChanges)
}

func TestDiffLinesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		n := r.IntN(30)
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a' + r.IntN(4)))
		}
		return out
	}
	for i := 0; i < 500; i++ {
		a, b := gen(), gen()
		edits := diffLines(a, b)
		var gotA, gotB []string
		for _, e := range edits {
			switch e.kind {
			case editEqual:
				require.Equal(t, a[e.a], b[e.b])
				gotA, gotB = append(gotA, a[e.a]), append(gotB, b[e.b])
			case editDelete:
				gotA = append(gotA, a[e.a])
			case editInsert:
				gotB = append(gotB, b[e.b])
			}
		}
		require.Equal(t, len(a), len(gotA))
		require.Equal(t, len(b), len(gotB))
		assert.Equal(t, strings.Join(a, ""), strings.Join(gotA, ""))
		assert.Equal(t, strings.Join(b, ""), strings.Join(gotB, ""))
		// Hunks made from the script turn a into b.
		f := &memFile{exists: true, lines: append([]string(nil), a...)}
		_, err := applyHunks("rand", "f", f, unifiedHunks(a, b, edits, 3), 0)
		require.NoError(t, err)
		assert.Equal(t, len(b), len(f.lines))
		assert.Equal(t, strings.Join(b, "\n"), strings.Join(f.lines, "\n"))
	}
}

func findPatch() (string, error) { return lookPatch() }
