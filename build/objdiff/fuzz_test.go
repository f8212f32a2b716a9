// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/internal/testcorpus"
)

// FuzzDiff mutates the patched object of a small fixture pair: whatever
// the bytes, Diff returns a result or an error, never panics, and never
// reaches its last-resort recover (ErrInternal): a recovered panic is a
// crash the fuzzer found.
func FuzzDiff(f *testing.F) {
	dir := filepath.Join(testcorpus.KpatchUnit(f), "x86_64")
	orig, err := os.ReadFile(filepath.Join(dir, "cold-change-sub.ORIG.o"))
	if err != nil {
		f.Skip("needs the kpatch unit corpus")
	}
	patched, err := os.ReadFile(filepath.Join(dir, "cold-change-sub.PATCHED.o"))
	if err != nil {
		f.Skip("needs the kpatch unit corpus")
	}
	f.Add(patched)
	f.Add(orig)
	f.Add(withLivepatchRela(f, patched)) // a finished module: two relocation sections for one section
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Diff(bytes.NewReader(orig), bytes.NewReader(data), &Options{Name: "fuzz.o"})
		if errors.Is(err, ErrInternal) {
			t.Fatalf("Diff crashed on %d bytes: %v", len(data), err)
		}
		if err == nil {
			_ = res.WriteObject(io.Discard)
		}
	})
}
