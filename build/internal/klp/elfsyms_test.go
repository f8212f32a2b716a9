// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// symbolsAgree checks elfSymbols against debug/elf's Symbols on one file.
func symbolsAgree(t *testing.T, r io.ReaderAt) {
	t.Helper()
	f, err := elf.NewFile(r)
	if err != nil {
		return
	}
	want, wantErr := f.Symbols()
	got, err := elfSymbols(f)
	if wantErr != nil || err != nil {
		if (wantErr == nil) != (err == nil) {
			t.Fatalf("elfSymbols error %v, debug/elf error %v", err, wantErr)
		}
		return
	}
	require.Len(t, got, len(want))
	for i, w := range want {
		if g := (elfSym{name: w.Name, info: w.Info, shndx: w.Section, value: w.Value}); got[i] != g {
			t.Fatalf("symbol %d: elfSymbols read %+v, debug/elf %+v", i+1, got[i], g)
		}
	}
}

func TestELFSymbolsAgree(t *testing.T) {
	symbolsAgree(t, bytes.NewReader(fakeVmlinux(t)))
	symbolsAgree(t, bytes.NewReader(moduleWithInitCopy(t, true)))
}

// TestELFSymbolsAgreeLab reads each lab kernel generation's vmlinux: a
// real table of some 150,000 symbols (6.1's from gcc-12, 5.10's from
// gcc-10).
func TestELFSymbolsAgreeLab(t *testing.T) {
	for _, g := range lab.Generations {
		t.Run(string(g), func(t *testing.T) {
			l := vmtest.RequireLabGeneration(t, g)
			f, err := os.Open(l.Vmlinux)
			require.NoError(t, err)
			defer f.Close()
			e, err := elf.NewFile(f)
			require.NoError(t, err)
			syms, err := e.Symbols()
			require.NoError(t, err)
			require.Greater(t, len(syms), 100000, "%s: a whole kernel's symbol table", l.Vmlinux)
			symbolsAgree(t, f) // quiet on errors (a fuzz helper): the table reads, above
		})
	}
}

func FuzzELFSymbols(f *testing.F) {
	f.Add(fakeVmlinux(&testing.T{}))
	f.Fuzz(func(t *testing.T, in []byte) { symbolsAgree(t, bytes.NewReader(in)) })
}

// BenchmarkReadVmlinux reads the lab kernel's symbol table, as every
// build does once.
func BenchmarkReadVmlinux(b *testing.B) {
	l := vmtest.RequireLab(b)
	f, err := os.Open(l.Vmlinux)
	require.NoError(b, err)
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadVmlinux(f, l.Vmlinux); err != nil {
			b.Fatal(err)
		}
	}
}
