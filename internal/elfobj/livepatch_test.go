// SPDX-License-Identifier: Apache-2.0

package elfobj

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// finishedModule builds what a finished livepatch module looks like to
// the reader: .text.foo relocated both by the normal .rela.text.foo
// (module loader) and by .klp.rela.vmlinux..text.foo (livepatch core)
// against a SHN_LIVEPATCH .klp.sym symbol, plus the livepatch=Y marker.
func finishedModule() *File {
	text := &Section{Name: ".text.foo", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Addralign: 16,
		// call _printk; call helper; ret
		Data: []byte{0xe8, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0xc3}}
	modinfo := &Section{Name: ".modinfo", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1,
		Data: []byte("livepatch=Y\x00license=GPL\x00")}
	textSym := &Symbol{Name: ".text.foo", Bind: elf.STB_LOCAL, Type: elf.STT_SECTION, Section: text}
	foo := &Symbol{Name: "foo", Bind: elf.STB_LOCAL, Type: elf.STT_FUNC, Section: text, Size: 11}
	printk := &Symbol{Name: "_printk", Bind: elf.STB_GLOBAL, Type: elf.STT_NOTYPE}
	klpSym := &Symbol{Name: ".klp.sym.vmlinux.helper,1", Bind: elf.STB_GLOBAL, Type: elf.STT_FUNC, Shndx: SHNLivepatch}
	rela := &Section{Name: ".rela.text.foo", Type: elf.SHT_RELA, Flags: elf.SHF_INFO_LINK, Addralign: 8, Entsize: 24, Target: text,
		Relas: []*Rela{{Offset: 1, Type: elf.R_X86_64_PLT32, Sym: printk, Addend: -4}}}
	klpRela := &Section{Name: ".klp.rela.vmlinux..text.foo", Type: elf.SHT_RELA, Addralign: 8, Entsize: 24, Target: text,
		Flags: elf.SHF_ALLOC | elf.SHF_INFO_LINK | SHFRelaLivepatch,
		Relas: []*Rela{{Offset: 6, Type: elf.R_X86_64_PC32, Sym: klpSym, Addend: -4}}}
	text.Rela, text.MoreRelas = rela, []*Section{klpRela}
	return &File{Machine: elf.EM_X86_64,
		Sections: []*Section{{}, text, rela, klpRela, modinfo},
		Symbols:  []*Symbol{{}, textSym, foo, printk, klpSym},
	}
}

func finishedModuleBytes(t testing.TB) []byte {
	var out bytes.Buffer
	if err := Write(&out, finishedModule()); err != nil {
		t.Fatalf("writing the finished module: %v", err)
	}
	return out.Bytes()
}

// TestFinishedLivepatchModule reads back a module with two relocation
// sections for one section: both are kept, separately, and survive a
// second round trip unchanged.
func TestFinishedLivepatchModule(t *testing.T) {
	raw := finishedModuleBytes(t)
	f, err := Parse(raw)
	require.NoError(t, err)
	text := f.Section(".text.foo")
	require.NotNil(t, text)
	require.NotNil(t, text.Rela)
	require.Equal(t, ".rela.text.foo", text.Rela.Name, "the ordinary relocations are Rela")
	require.False(t, text.Rela.IsLivepatchRela())
	require.Len(t, text.MoreRelas, 1)
	klp := text.MoreRelas[0]
	require.Equal(t, ".klp.rela.vmlinux..text.foo", klp.Name)
	require.True(t, klp.IsLivepatchRela())
	require.Equal(t, elf.SHF_ALLOC|elf.SHF_INFO_LINK|SHFRelaLivepatch, klp.Flags)
	require.Same(t, text, klp.Target)
	require.Equal(t, []*Section{text.Rela, klp}, text.RelaSections())
	require.Len(t, klp.Relas, 1)
	require.Equal(t, ".klp.sym.vmlinux.helper,1", klp.Relas[0].Sym.Name)
	require.Equal(t, SHNLivepatch, klp.Relas[0].Sym.Shndx)
	require.Nil(t, klp.Relas[0].Sym.Section)
	require.Equal(t, "_printk", text.Rela.Relas[0].Sym.Name)

	again, err := Parse(roundTrip(t, f))
	require.NoError(t, err)
	require.Equal(t, summary(f), summary(again))

	if _, err := exec.LookPath("readelf"); err == nil {
		path := filepath.Join(t.TempDir(), "livepatch.ko")
		require.NoError(t, os.WriteFile(path, raw, 0o644))
		cmd := exec.Command("readelf", "-S", "-r", "-s", "-W", path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, stderr.String())
		require.Empty(t, stderr.String(), "readelf complained")
		require.Regexp(t, `\.klp\.rela\.vmlinux\.\.text\.foo\s+RELA\s+\S+\s+\S+\s+\S+\s+18\s+AIo\s`, string(out))
		require.Contains(t, string(out), "Relocation section '.klp.rela.vmlinux..text.foo'")
		require.Contains(t, string(out), "Relocation section '.rela.text.foo'")
	}
}

// TestRelocationOfRelocationRefused: a relocation section must apply to
// a section that holds code or data.
func TestRelocationOfRelocationRefused(t *testing.T) {
	f := finishedModule()
	text := f.Sections[1]
	klp := text.MoreRelas[0]
	klp.Target = f.Sections[2] // the .rela.text.foo section
	text.MoreRelas = nil
	var out bytes.Buffer
	require.NoError(t, Write(&out, f))
	_, err := Parse(out.Bytes())
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), ".klp.rela.vmlinux..text.foo")
}
