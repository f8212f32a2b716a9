// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

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

// TestELFSymbolsAgreeLab reads the lab kernel's vmlinux: a real table of
// some 150,000 symbols.
func TestELFSymbolsAgreeLab(t *testing.T) {
	l := vmtest.RequireLab(t)
	f, err := os.Open(l.Vmlinux)
	require.NoError(t, err)
	defer f.Close()
	symbolsAgree(t, f)
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
