// SPDX-License-Identifier: Apache-2.0

package elfobj

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/testcorpus"
)

// corpusDir is the kpatch unit corpus's objects (../shared), or skips.
func corpusDir(t testing.TB) string { return filepath.Join(testcorpus.KpatchUnit(t), "x86_64") }

func corpusObjects(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "*.o"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// summary renders what must survive a round trip, by name not index.
func summary(f *File) string {
	var b strings.Builder
	for _, s := range f.Sections[1:] {
		switch s.Type {
		case elf.SHT_SYMTAB, elf.SHT_STRTAB, elf.SHT_SYMTAB_SHNDX:
			continue
		}
		fmt.Fprintf(&b, "S %s %v %v a=%d e=%d size=%d data=%x\n", s.Name, s.Type, s.Flags&^elf.SHF_INFO_LINK, s.Addralign, s.Entsize, s.ContentSize(), s.Data)
		if s.Link != nil {
			fmt.Fprintf(&b, "  link %s\n", s.Link.Name)
		}
		if s.Target != nil {
			fmt.Fprintf(&b, "  target %s\n", s.Target.Name)
		}
		for _, r := range s.RelaSections() {
			fmt.Fprintf(&b, "  relocated by %s\n", r.Name)
		}
		for _, r := range s.Relas {
			fmt.Fprintf(&b, "  R %#x %v %s/%v %d\n", r.Offset, r.Type, r.Sym.Name, r.Sym.Type, r.Addend)
		}
		for _, m := range s.GroupMember {
			fmt.Fprintf(&b, "  G %s\n", m.Name)
		}
	}
	syms := make([]string, 0, len(f.Symbols))
	for _, s := range f.Symbols {
		sec := fmt.Sprint(s.Shndx)
		if s.Section != nil {
			sec = s.Section.Name
		}
		syms = append(syms, fmt.Sprintf("Y %s %v %v %d %s %#x %d\n", s.Name, s.Bind, s.Type, s.Other, sec, s.Value, s.Size))
	}
	// Writing reorders locals first; compare as a multiset in file order per binding.
	var locals, globals []string
	for i, s := range f.Symbols {
		if s.Bind == elf.STB_LOCAL {
			locals = append(locals, syms[i])
		} else {
			globals = append(globals, syms[i])
		}
	}
	b.WriteString(strings.Join(locals, ""))
	b.WriteString(strings.Join(globals, ""))
	return b.String()
}

func roundTrip(t testing.TB, f *File) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, Write(&out, f))
	return out.Bytes()
}

func TestRoundTripCorpus(t *testing.T) {
	for _, path := range corpusObjects(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := Parse(raw)
			require.NoError(t, err)
			require.Equal(t, "", f.Symbols[0].Name, "null symbol kept")
			out := roundTrip(t, f)
			g, err := Parse(out)
			require.NoError(t, err)
			require.Equal(t, summary(f), summary(g))
			// debug/elf agrees on the symbol count (it drops the null symbol).
			ef, err := elf.NewFile(bytes.NewReader(out))
			require.NoError(t, err)
			syms, err := ef.Symbols()
			require.NoError(t, err)
			require.Len(t, syms, len(f.Symbols)-1)
		})
	}
}

func TestRoundTripToolsAccept(t *testing.T) {
	for _, tool := range []string{"readelf", "objdump", "ld"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (binutils)", tool)
		}
	}
	files := corpusObjects(t)
	for _, path := range []string{files[0], files[len(files)/2], files[len(files)-1]} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Read(mustOpen(t, path))
			require.NoError(t, err)
			out := filepath.Join(t.TempDir(), "rt.o")
			require.NoError(t, os.WriteFile(out, roundTrip(t, f), 0o644))
			checkTools(t, out)
		})
	}
}

// checkTools runs readelf, objdump and ld -r on an object and fails on any
// complaint.
func checkTools(t *testing.T, path string) {
	t.Helper()
	for _, args := range [][]string{
		{"readelf", "-a", "-W", path},
		{"objdump", "-dr", path},
		{"ld", "-r", "-o", path + ".linked.o", path},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		require.NoError(t, err, "%v: %s", args, stderr.String())
		require.Empty(t, stderr.String(), "%v complained", args)
		require.NotContains(t, string(stdout), "Warning", "%v", args)
	}
}

func mustOpen(t testing.TB, path string) *os.File {
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// TestExtendedSectionIndices writes an object with more sections than
// 16-bit indices can name and checks .symtab_shndx and e_shnum=0 work.
func TestExtendedSectionIndices(t *testing.T) {
	f := &File{Machine: elf.EM_X86_64, Sections: []*Section{{}}, Symbols: []*Symbol{{}}}
	for i := 0; i < 70000; i++ {
		s := &Section{Name: fmt.Sprintf(".data.v%d", i), Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Addralign: 8, Data: []byte{byte(i), 0, 0, 0, 0, 0, 0, 0}}
		f.Sections = append(f.Sections, s)
		f.Symbols = append(f.Symbols, &Symbol{Name: fmt.Sprintf("v%d", i), Bind: elf.STB_GLOBAL, Type: elf.STT_OBJECT, Section: s, Size: 8})
	}
	out := roundTrip(t, f)
	g, err := Parse(out)
	require.NoError(t, err)
	require.NotNil(t, g.Section(".symtab_shndx"))
	last := g.Symbol("v69999")
	require.NotNil(t, last)
	require.Equal(t, ".data.v69999", last.Section.Name)
	require.Equal(t, []byte{byte(69999 & 0xff), 0, 0, 0, 0, 0, 0, 0}, last.Section.Data)
	if _, err := exec.LookPath("readelf"); err == nil {
		path := filepath.Join(t.TempDir(), "big.o")
		require.NoError(t, os.WriteFile(path, out, 0o644))
		cmd := exec.Command("readelf", "-s", "-W", path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		require.NoError(t, err)
		require.Empty(t, stderr.String())
		require.Contains(t, string(stdout), "v69999")
	}
}

func TestParseErrors(t *testing.T) {
	raw, err := os.ReadFile(corpusObjects(t)[0])
	require.NoError(t, err)
	mutate := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(raw)) }
	cases := map[string][]byte{
		"empty":     nil,
		"short":     raw[:10],
		"bad magic": mutate(func(b []byte) []byte { b[0] = 'X'; return b }),
		"elf32":     mutate(func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b }),
		"exec":      mutate(func(b []byte) []byte { b[16] = byte(elf.ET_EXEC); return b }),
		"truncated": raw[:len(raw)/2],
		"shoff out": mutate(func(b []byte) []byte { b[0x28] = 0xff; b[0x2f] = 0x7f; return b }),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(in)
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func FuzzParse(f *testing.F) {
	corpus, _ := testcorpus.KpatchUnitDir() // seeds only: fuzzing runs without it
	files, _ := filepath.Glob(filepath.Join(corpus, "x86_64", "*.ORIG.o"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 12<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(elf.ELFMAG))
	f.Add(finishedModuleBytes(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses must write back without panicking.
		var out bytes.Buffer
		_ = Write(&out, obj)
	})
}
