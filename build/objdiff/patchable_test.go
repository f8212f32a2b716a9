// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// addPrefixSymbols does what objtool --prefix=16 does in a kernel build
// with CONFIG_CALL_PADDING: a __pfx_<f> FUNC symbol over the 16 bytes of
// padding before every function that starts at offset 16 of its section.
func addPrefixSymbols(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := elfobj.Parse(raw)
	require.NoError(t, err)
	for _, s := range append([]*elfobj.Symbol{}, f.Symbols...) {
		if s.Type == elf.STT_FUNC && s.Section != nil && s.Value == pfxSize {
			f.Symbols = append(f.Symbols, &elfobj.Symbol{Name: "__pfx_" + s.Name, Bind: elf.STB_LOCAL, Type: elf.STT_FUNC,
				Section: s.Section, Size: pfxSize})
		}
	}
	var out bytes.Buffer
	require.NoError(t, elfobj.Write(&out, f))
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
}

// TestPatchableFunctionEntries: with -fpatchable-function-entry=16,16 (as
// CONFIG_CALL_PADDING builds), __patchable_function_entries keeps exactly
// the entry of the included function, pointing at its padding, linked to
// its section.
func TestPatchableFunctionEntries(t *testing.T) {
	orig, patched := compileFixtureFlags(t, "changed-function", "-fpatchable-function-entry=16,16")
	addPrefixSymbols(t, orig)
	addPrefixSymbols(t, patched)
	res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{Name: "changed-function.o"})
	require.NoError(t, err)
	require.Equal(t, []string{"show_value"}, names(res.Changed))
	var found int
	for _, s := range res.out.Sections {
		if s.Name != "__patchable_function_entries" {
			continue
		}
		found++
		require.Len(t, s.Data, 8, "one entry")
		require.NotNil(t, s.Rela)
		require.Len(t, s.Rela.Relas, 1)
		r := s.Rela.Relas[0]
		require.Equal(t, elf.R_X86_64_64, r.Type)
		require.NotNil(t, r.Sym.Section)
		require.Equal(t, ".text.show_value", r.Sym.Section.Name)
		require.Equal(t, int64(0), r.Addend+int64(r.Sym.Value), "the start of the padding")
		require.NotZero(t, s.Flags&elf.SHF_LINK_ORDER)
		require.Same(t, r.Sym.Section, s.Link)
	}
	require.Equal(t, 1, found)
	path := filepath.Join(t.TempDir(), "patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
}

// TestCorpusPatchableFunctionEntries: import-ns was built with call
// padding; its __patchable_function_entries has entries for .init.text
// and cmdline_proc_show, and only the latter is kept.
func TestCorpusPatchableFunctionEntries(t *testing.T) {
	dir, cases := loadCorpus(t)
	for _, c := range cases {
		if c.Case != "import-ns" {
			continue
		}
		res, err := diffCorpusCase(t, dir, c)
		require.NoError(t, err)
		sec := res.out.Section("__patchable_function_entries")
		require.NotNil(t, sec)
		require.Len(t, sec.Data, 8)
		require.Len(t, sec.Rela.Relas, 1)
		require.Equal(t, ".text.cmdline_proc_show", sec.Rela.Relas[0].Sym.Section.Name)
		require.Equal(t, ".text.cmdline_proc_show", sec.Link.Name, "SHF_LINK_ORDER to the kept function, not .init.text")
		return
	}
	t.Fatal("import-ns not in the corpus")
}
