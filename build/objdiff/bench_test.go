// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func benchmarkDiff(b *testing.B, orig, patched []byte, opts *Options) {
	b.ReportAllocs()
	b.SetBytes(int64(len(orig) + len(patched)))
	for b.Loop() {
		res, err := Diff(bytes.NewReader(orig), bytes.NewReader(patched), opts)
		require.NoError(b, err)
		require.NoError(b, res.WriteObject(io.Discard))
	}
}

// BenchmarkDiffCorpusLargest diffs the largest kpatch unit corpus pair
// (net/core/dev.o, 1,631 sections) and writes the patch object.
func BenchmarkDiffCorpusLargest(b *testing.B) {
	dir, cases := loadCorpus(b)
	for _, c := range cases {
		if c.Case != "ASSERT_RTNL-detect" {
			continue
		}
		orig, err := os.ReadFile(filepath.Join(dir, c.OrigFile))
		require.NoError(b, err)
		patched, err := os.ReadFile(filepath.Join(dir, c.PatchedFile))
		require.NoError(b, err)
		benchmarkDiff(b, orig, patched, &Options{Name: c.Case, Sizes: corpusSizes(c.Env)})
	}
}

// BenchmarkDiffKernelSchedCore diffs kernel/sched/core.o of the lab
// kernel (one of its largest objects) with a one-line
// patch in a small function.
func BenchmarkDiffKernelSchedCore(b *testing.B) {
	tree, _ := labTree(b)
	origPath, patchedPath := buildKernelPair(b, tree, "kernel/sched/core.c", schedCorePatch[0], schedCorePatch[1])
	orig, err := os.ReadFile(origPath)
	require.NoError(b, err)
	patched, err := os.ReadFile(patchedPath)
	require.NoError(b, err)
	benchmarkDiff(b, orig, patched, &Options{Name: "kernel/sched/core.o", Sizes: DefaultSizes})
}
