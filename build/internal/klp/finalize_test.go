// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// fakeModule is what kbuild links: one function whose relocations refer to
// an export (printk), a renamed vmlinux static and a renamed module static,
// plus a debug section that refers to the vmlinux static too.
func fakeModule(extraUndefined string) *elfobj.File {
	text := &elfobj.Section{Name: ".text.show", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Addralign: 16, Data: make([]byte, 32)}
	debug := &elfobj.Section{Name: ".debug_info", Type: elf.SHT_PROGBITS, Addralign: 1, Data: make([]byte, 16)}
	modinfo := &elfobj.Section{Name: ".modinfo", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1,
		Data: []byte("license=GPL\x00livepatch=Y\x00vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \x00")}
	show := &elfobj.Symbol{Name: "show", Type: elf.STT_FUNC, Bind: elf.STB_LOCAL, Section: text, Size: 32}
	printk := &elfobj.Symbol{Name: "_printk", Bind: elf.STB_GLOBAL}
	vstatic := &elfobj.Symbol{Name: KlpSymbolName("vmlinux", "saved_command_line", 0), Bind: elf.STB_GLOBAL}
	mstatic := &elfobj.Symbol{Name: KlpSymbolName("binfmt_misc", "enabled", 1), Bind: elf.STB_GLOBAL}
	syms := []*elfobj.Symbol{{}, show, printk, vstatic, mstatic}
	relas := []*elfobj.Rela{
		{Offset: 1, Type: elf.R_X86_64_PLT32, Sym: printk, Addend: -4},
		{Offset: 8, Type: elf.R_X86_64_PC32, Sym: vstatic, Addend: -4},
		{Offset: 16, Type: elf.R_X86_64_PC32, Sym: mstatic, Addend: -4},
		{Offset: 24, Type: elf.R_X86_64_PC32, Sym: vstatic, Addend: -4},
	}
	if extraUndefined != "" {
		extra := &elfobj.Symbol{Name: extraUndefined, Bind: elf.STB_GLOBAL}
		syms = append(syms, extra)
		relas = append(relas, &elfobj.Rela{Offset: 28, Type: elf.R_X86_64_PC32, Sym: extra})
	}
	rtext := &elfobj.Section{Name: ".rela.text.show", Type: elf.SHT_RELA, Flags: elf.SHF_INFO_LINK, Addralign: 8, Entsize: 24, Target: text, Relas: relas}
	text.Rela = rtext
	rdebug := &elfobj.Section{Name: ".rela.debug_info", Type: elf.SHT_RELA, Addralign: 8, Entsize: 24, Target: debug,
		Relas: []*elfobj.Rela{{Offset: 0, Type: elf.R_X86_64_64, Sym: vstatic}}}
	return &elfobj.File{Machine: elf.EM_X86_64, Sections: []*elfobj.Section{{}, text, rtext, debug, rdebug, modinfo}, Symbols: syms}
}

func exportedPrintk(s string) bool { return s == "_printk" }

func TestFinalize(t *testing.T) {
	f := fakeModule("")
	require.NoError(t, Finalize(f, exportedPrintk))
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))

	ef, err := elf.NewFile(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	secs := map[string]*elf.Section{}
	for _, s := range ef.Sections {
		secs[s.Name] = s
	}
	text := secs[".text.show"]
	require.NotNil(t, text)
	for _, name := range []string{".klp.rela.vmlinux..text.show", ".klp.rela.binfmt_misc..text.show"} {
		s := secs[name]
		require.NotNil(t, s, name)
		assert.Equal(t, elf.SHT_RELA, s.Type)
		assert.Equal(t, elf.SHF_ALLOC|elf.SHF_INFO_LINK|elf.SectionFlag(0x00100000), s.Flags, "readelf AIo")
		assert.Equal(t, uint64(24), s.Entsize)
		assert.Equal(t, ".text.show", ef.Sections[s.Info].Name, "sh_info is the patched section")
		assert.Equal(t, ".symtab", ef.Sections[s.Link].Name)
	}
	assert.Equal(t, uint64(2*24), secs[".klp.rela.vmlinux..text.show"].Size, "both vmlinux references moved")
	assert.Equal(t, uint64(24), secs[".klp.rela.binfmt_misc..text.show"].Size)
	assert.Equal(t, uint64(24), secs[".rela.text.show"].Size, "only the export stays a normal relocation")
	assert.Equal(t, uint64(24), secs[".rela.debug_info"].Size, "debug relocations are not livepatch relocations")
	assert.Nil(t, secs[".klp.rela.vmlinux..debug_info"])

	syms, err := ef.Symbols()
	require.NoError(t, err)
	n := 0
	for _, s := range syms {
		if _, _, _, ok := parseKlpSymbol(s.Name); ok {
			n++
			assert.Equal(t, elf.SectionIndex(0xff20), s.Section, "%s is SHN_LIVEPATCH", s.Name)
			assert.Zero(t, s.Value)
		}
	}
	assert.Equal(t, 2, n)

	// elfobj.Read refuses a section with two relocation sections (the
	// normal and the .klp.rela one), so the modinfo checks use f.
	require.NoError(t, CheckVermagic(f, "6.1.0-56-amd64"))
	require.ErrorIs(t, CheckVermagic(f, "6.1.0-57-amd64"), ErrVermagic)
	assert.Equal(t, []string{"Y"}, ModInfo(f, "livepatch"))
}

func TestFinalizeRefusesUnresolved(t *testing.T) {
	err := Finalize(fakeModule("secret_static"), exportedPrintk)
	require.ErrorIs(t, err, ErrUndefinedSymbols)
	assert.Contains(t, err.Error(), "secret_static")
	err = Finalize(fakeModule(""), nil)
	require.ErrorIs(t, err, ErrUndefinedSymbols, "without exports even _printk is unresolved")
	assert.Contains(t, err.Error(), "_printk")
}

func TestFinalizeRefusesBadKlpName(t *testing.T) {
	long := string(bytes.Repeat([]byte("m"), 60))
	err := Finalize(fakeModule(".klp.sym."+long+".x,0"), exportedPrintk)
	require.ErrorIs(t, err, ErrBadKlpSymbol)
	assert.Contains(t, err.Error(), long)
}

func TestCheckVermagicMissing(t *testing.T) {
	require.ErrorIs(t, CheckVermagic(&elfobj.File{}, "6.1.0"), ErrVermagic)
}

func TestKlpSymbolName(t *testing.T) {
	name := KlpSymbolName("vmlinux", "foo.isra.0", 3)
	assert.Equal(t, ".klp.sym.vmlinux.foo.isra.0,3", name)
	obj, sym, pos, ok := parseKlpSymbol(name)
	require.True(t, ok)
	assert.Equal(t, []any{"vmlinux", "foo.isra.0", 3}, []any{obj, sym, pos})
	for _, bad := range []string{"foo", ".klp.sym.vmlinux", ".klp.sym..x,0", ".klp.sym.v.x", ".klp.sym.v.x,-1", ".klp.sym.v.,1"} {
		_, _, _, ok := parseKlpSymbol(bad)
		assert.False(t, ok, bad)
	}
}

func TestAliasAndRename(t *testing.T) {
	f := fakeModule("")
	require.NoError(t, AliasFunction(f, "show", "klpkit_new_0_0"))
	require.Error(t, AliasFunction(f, "show", "klpkit_new_0_0"), "alias twice")
	require.Error(t, AliasFunction(f, "missing", "x"))
	alias := f.Symbol("klpkit_new_0_0")
	require.NotNil(t, alias)
	assert.Equal(t, elf.STB_GLOBAL, alias.Bind)
	assert.Equal(t, f.Symbol("show").Section, alias.Section)

	require.NoError(t, RenameUndefined(f, "_printk", "renamed"))
	assert.NotNil(t, f.Symbol("renamed"))
	require.Error(t, RenameUndefined(f, "show", "x"), "defined symbols are not renamed")
}
