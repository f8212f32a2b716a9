// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// fakeVmlinux is a symbol table with two translation units that both
// define a static "show", one also a static "helper", and a global "show"
// elsewhere is absent on purpose; "dup" is a global defined twice.
func fakeVmlinux(t *testing.T) []byte {
	t.Helper()
	text := &elfobj.Section{Name: ".text", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Addralign: 16, Data: make([]byte, 0x100)}
	f := &elfobj.File{Machine: elf.EM_X86_64, Sections: []*elfobj.Section{{}, text}}
	sym := func(name string, typ elf.SymType, bind elf.SymBind, addr uint64) *elfobj.Symbol {
		s := &elfobj.Symbol{Name: name, Type: typ, Bind: bind, Value: addr}
		if typ == elf.STT_FILE {
			s.Shndx = elf.SHN_ABS
		} else {
			s.Section = text
		}
		return s
	}
	f.Symbols = []*elfobj.Symbol{
		{},
		sym("b.c", elf.STT_FILE, elf.STB_LOCAL, 0),
		sym("show", elf.STT_FUNC, elf.STB_LOCAL, 0x80), // higher address, earlier in the table
		sym("other", elf.STT_OBJECT, elf.STB_LOCAL, 0x90),
		sym("a.c", elf.STT_FILE, elf.STB_LOCAL, 0),
		sym("show", elf.STT_FUNC, elf.STB_LOCAL, 0x10),
		sym("helper", elf.STT_FUNC, elf.STB_LOCAL, 0x20),
		sym("dup", elf.STT_FUNC, elf.STB_GLOBAL, 0x30),
		sym("dup", elf.STT_FUNC, elf.STB_GLOBAL, 0x40),
		sym("unique", elf.STT_FUNC, elf.STB_GLOBAL, 0x50),
	}
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))
	return buf.Bytes()
}

func TestPositionVmlinux(t *testing.T) {
	tab, err := ReadVmlinux(bytes.NewReader(fakeVmlinux(t)), "vmlinux")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		local  bool
		locals []string
		want   int
		err    error
	}{
		{"unique", false, nil, 0, nil},
		{"helper", true, []string{"show", "helper"}, 0, nil},
		{"show", true, []string{"show", "helper"}, 1, nil}, // a.c's show is at the lower address
		{"show", true, []string{"show", "other"}, 2, nil},  // b.c's
		{"show", true, []string{"show"}, 0, ErrAmbiguousSymbol},
		{"show", true, []string{"show", "missing"}, 0, ErrAmbiguousSymbol},
		{"dup", false, nil, 0, ErrAmbiguousSymbol},
		{"absent", true, nil, 0, ErrSymbolNotFound},
	} {
		got, err := tab.Position(tc.name, tc.local, tc.locals)
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err, "%s %v", tc.name, tc.locals)
			assert.Contains(t, err.Error(), tc.name)
			continue
		}
		require.NoError(t, err, "%s %v", tc.name, tc.locals)
		assert.Equal(t, tc.want, got, "%s %v", tc.name, tc.locals)
	}
	assert.True(t, tab.Has("helper"))
	assert.Equal(t, 2, tab.Count("show"))
}

func TestPositionModuleTableOrder(t *testing.T) {
	tab, err := ReadModule(bytes.NewReader(fakeVmlinux(t)), "mod.ko")
	require.NoError(t, err)
	got, err := tab.Position("show", true, []string{"show", "helper"})
	require.NoError(t, err)
	assert.Equal(t, 2, got, "modules count in symbol table order, not by address")
}

const systemMap = `ffffffff81000000 T _stext
ffffffff81000010 t show
ffffffff81000020 t helper
ffffffff81000080 t show
ffffffff81000090 T unique
ffffffff81000095 U undefined_here
`

func TestPositionSystemMap(t *testing.T) {
	tab, err := ReadSystemMap(strings.NewReader(systemMap), "System.map")
	require.NoError(t, err)
	got, err := tab.Position("helper", true, []string{"helper", "show"})
	require.NoError(t, err)
	assert.Equal(t, 0, got)
	_, err = tab.Position("show", true, []string{"helper", "show"})
	require.ErrorIs(t, err, ErrAmbiguousSymbol)
	assert.Contains(t, err.Error(), "System.map cannot tell")
	assert.False(t, tab.Has("undefined_here"))
}

func TestReadSystemMapErrors(t *testing.T) {
	for name, c := range map[string]struct{ in, says string }{
		"empty":       {"", "system map map: no symbols"},
		"short line":  {"ffffffff81000000 T\n", `system map map line 1: want "address type name"`},
		"bad address": {"zzzz T x\n", `system map map line 1: bad address "zzzz"`},
		"bad type":    {"ffffffff81000000 TT x\n", `system map map line 1: want "address type name"`},
	} {
		_, err := ReadSystemMap(strings.NewReader(c.in), "map")
		require.ErrorContains(t, err, c.says, name)
	}
}

func FuzzReadSystemMap(f *testing.F) {
	f.Add(systemMap)
	f.Add("0 t a\n0 t a\n")
	f.Fuzz(func(t *testing.T, in string) {
		tab, err := ReadSystemMap(strings.NewReader(in), "map")
		if err != nil {
			return
		}
		for name := range tab.byName {
			tab.Position(name, true, nil) //nolint:errcheck // must not panic
		}
	})
}

func FuzzReadELFTable(f *testing.F) {
	f.Add(fakeVmlinux(&testing.T{}))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, read := range []func([]byte) (*SymbolTable, error){
			func(b []byte) (*SymbolTable, error) { return ReadVmlinux(bytes.NewReader(b), "vmlinux") },
			func(b []byte) (*SymbolTable, error) { return ReadModule(bytes.NewReader(b), "m.ko") },
		} {
			tab, err := read(in)
			if err != nil {
				continue
			}
			for name := range tab.byName {
				tab.Position(name, true, nil) //nolint:errcheck // must not panic
			}
		}
	})
}

// moduleWithInitCopy has "show" twice, static in two files; the first file's copy
// lives in .init.text when initFirst, else the second file's does.
func moduleWithInitCopy(t *testing.T, initFirst bool) []byte {
	t.Helper()
	text := &elfobj.Section{Name: ".text", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Addralign: 16, Data: make([]byte, 0x100)}
	init := &elfobj.Section{Name: ".init.text", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Addralign: 16, Data: make([]byte, 0x100)}
	f := &elfobj.File{Machine: elf.EM_X86_64, Sections: []*elfobj.Section{{}, text, init}}
	first, second := init, text
	if !initFirst {
		first, second = text, init
	}
	f.Symbols = []*elfobj.Symbol{
		{},
		{Name: "a.c", Type: elf.STT_FILE, Bind: elf.STB_LOCAL, Shndx: elf.SHN_ABS},
		{Name: "show", Type: elf.STT_FUNC, Bind: elf.STB_LOCAL, Section: first},
		{Name: "a_only", Type: elf.STT_FUNC, Bind: elf.STB_LOCAL, Section: text, Value: 0x40},
		{Name: "b.c", Type: elf.STT_FILE, Bind: elf.STB_LOCAL, Shndx: elf.SHN_ABS},
		{Name: "show", Type: elf.STT_FUNC, Bind: elf.STB_LOCAL, Section: second, Value: 0x10},
		{Name: "b_only", Type: elf.STT_FUNC, Bind: elf.STB_LOCAL, Section: text, Value: 0x20},
	}
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))
	return buf.Bytes()
}

// The kernel counts a module's symbols over its whole table while the
// module loads and over its core symbols once it is live: a position that
// differs between the two is refused, one that agrees is kept.
func TestPositionModuleInitCopies(t *testing.T) {
	tab, err := ReadModule(bytes.NewReader(moduleWithInitCopy(t, true)), "mod.ko")
	require.NoError(t, err)
	_, err = tab.Position("show", true, []string{"show", "b_only"})
	require.ErrorIs(t, err, ErrAmbiguousSymbol)
	assert.Contains(t, err.Error(), `"show" is occurrence 2 while the module loads but 1 once it is live`)
	_, err = tab.Position("show", true, []string{"show", "a_only"})
	require.ErrorIs(t, err, ErrAmbiguousSymbol, "the init copy itself")
	assert.Contains(t, err.Error(), "init or unloaded section")

	tab, err = ReadModule(bytes.NewReader(moduleWithInitCopy(t, false)), "mod.ko")
	require.NoError(t, err)
	got, err := tab.Position("show", true, []string{"show", "a_only"})
	require.NoError(t, err)
	assert.Equal(t, 1, got, "the init copy comes after: 1 both ways")

	// vmlinux ranks by address; init copies stay in kallsyms.
	tab, err = ReadVmlinux(bytes.NewReader(moduleWithInitCopy(t, true)), "vmlinux")
	require.NoError(t, err)
	_, err = tab.Position("show", true, []string{"show", "b_only"})
	require.NoError(t, err)
}

// TestHasGlobal: only a global or weak definition counts, never a static
// of the same name, in an ELF table and in a System.map.
func TestHasGlobal(t *testing.T) {
	elfTab, err := ReadVmlinux(bytes.NewReader(fakeVmlinux(t)), "vmlinux")
	require.NoError(t, err)
	mapTab, err := ReadSystemMap(strings.NewReader("ffffffff81000000 t show\nffffffff81000010 T unique\nffffffff81000020 W weakfn\nffffffff81000030 U undef\n"), "System.map")
	require.NoError(t, err)
	for _, tc := range []struct {
		tab  *SymbolTable
		name string
		want bool
	}{
		{elfTab, "unique", true},
		{elfTab, "dup", true},
		{elfTab, "show", false}, // two statics
		{elfTab, "helper", false},
		{elfTab, "absent", false},
		{mapTab, "unique", true},
		{mapTab, "weakfn", true},
		{mapTab, "show", false},
		{mapTab, "undef", false},
	} {
		assert.Equal(t, tc.want, tc.tab.HasGlobal(tc.name), "%s: %s", tc.tab.Source, tc.name)
	}
}
