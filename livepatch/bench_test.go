// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchTree writes n generated kernel-style C files of about 400 lines and
// a patch changing two functions in each (two hunks per file).
func benchTree(b *testing.B, n int) (string, []byte) {
	b.Helper()
	root := b.TempDir()
	var patch strings.Builder
	for i := 0; i < n; i++ {
		rel := fmt.Sprintf("drivers/bench%02d/bench.c", i)
		var lines []string
		for fn := 0; fn < 40; fn++ {
			lines = append(lines,
				fmt.Sprintf("static int bench%d_fn%d(struct bench_dev *dev, int arg)", i, fn), "{",
				"\tint ret = 0;", "",
				fmt.Sprintf("\tif (arg > %d)", fn), "\t\treturn -EINVAL;",
				"\tret = dev->ops->call(dev, arg);", "\treturn ret;", "}", "")
		}
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		before := fileFromBytes([]byte(strings.Join(lines, "\n")+"\n"), 0o644)
		after := before.clone()
		for _, fn := range []int{5, 30} {
			idx := fn*10 + 4
			after.lines[idx] = fmt.Sprintf("\tif (arg > %d || arg < 0)", fn)
		}
		f := diffFile(rel, before, after)
		patch.Write((&Patch{Files: f}).Format())
	}
	return root, []byte(patch.String())
}

func BenchmarkApply50Files(b *testing.B) {
	root, text := benchTree(b, 50)
	ps, err := Parse("bench.patch", text, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("dry-run", func(b *testing.B) {
		for b.Loop() {
			if _, err := Apply(ctx, root, ps, &ApplyOptions{DryRun: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("apply+reverse", func(b *testing.B) {
		for b.Loop() {
			if _, err := Apply(ctx, root, ps, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := Apply(ctx, root, ps, &ApplyOptions{Reverse: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParse50Files(b *testing.B) {
	_, text := benchTree(b, 50)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse("bench.patch", text, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate50Files(b *testing.B) {
	root, text := benchTree(b, 50)
	ps, err := Parse("bench.patch", text, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Validate(context.Background(), ps, &ValidateOptions{Tree: root}); err != nil {
			b.Fatal(err)
		}
	}
}
