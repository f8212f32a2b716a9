// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/needtest"
)

func TestParseKlpReference(t *testing.T) {
	for _, tc := range []struct {
		in                       string
		relObj, obj, name, final string
		pos                      int
		ok                       bool
	}{
		{".klp.sym.nfsd.nfsd_show,2", "nfsd", "nfsd", "nfsd_show", ".klp.sym.nfsd.nfsd_show,2", 2, true},
		{".klp.sym.vmlinux.foo.isra.0,1", "vmlinux", "vmlinux", "foo.isra.0", ".klp.sym.vmlinux.foo.isra.0,1", 1, true},
		{CrossKlpSymbolName("nfsd", "sunrpc", "cache_check", 0), "nfsd", "sunrpc", "cache_check", ".klp.sym.sunrpc.cache_check,0", 0, true},
		{".klp.xsym.nfsd.sunrpc.a.b,0", "nfsd", "sunrpc", "a.b", ".klp.sym.sunrpc.a.b,0", 0, true},
		{".klp.xsym.nfsd.nfsd.x,0", "", "", "", "", 0, false}, // same object: a plain .klp.sym
		{".klp.xsym..sunrpc.x,0", "", "", "", "", 0, false},
		{".klp.xsym.nfsd", "", "", "", "", 0, false},
		{".klp.xsym.nfsd.sunrpc.x", "", "", "", "", 0, false},
		{"cache_check", "", "", "", "", 0, false},
	} {
		relObj, obj, name, pos, final, ok := parseKlpReference(tc.in)
		assert.Equal(t, []any{tc.relObj, tc.obj, tc.name, tc.pos, tc.final, tc.ok}, []any{relObj, obj, name, pos, final, ok}, tc.in)
	}
}

// crossObject compiles a patched nfsd function that calls sunrpc's export
// cache_check, nfsd's own static nfsd_helper and vmlinux's export printk,
// with the first two renamed as build renames them for target nfsd.
func crossObject(t *testing.T) *elfobj.File {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		needtest.Missing(t, "needs gcc (Debian package gcc) to compile the cross-module test object")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "cross.c")
	require.NoError(t, os.WriteFile(src, []byte(`
extern int cache_check(void *, void *, void *);
extern int nfsd_helper(int);
extern int printk(const char *, ...);
int patched(void *a) { printk("x"); return cache_check(a, a, a) + nfsd_helper(1); }
int also_patched(void *a) { return cache_check(a, 0, 0); }
`), 0o644))
	out := filepath.Join(dir, "cross.o")
	b, err := exec.Command(gcc, "-c", "-O2", "-ffunction-sections", "-fno-pic", "-fno-asynchronous-unwind-tables", "-o", out, src).CombinedOutput()
	require.NoError(t, err, "%s", b)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	f, err := elfobj.Parse(data)
	require.NoError(t, err)
	require.NoError(t, RenameUndefined(f, "cache_check", CrossKlpSymbolName("nfsd", "sunrpc", "cache_check", 0)))
	require.NoError(t, RenameUndefined(f, "nfsd_helper", KlpSymbolName("nfsd", "nfsd_helper", 0)))
	return f
}

// TestFinalizeCrossModule: a reference from code patched into nfsd to
// sunrpc's export becomes a klp relocation in nfsd's .klp.rela section
// (applied when nfsd loads, which needs sunrpc loaded) against a symbol
// the kernel looks up in sunrpc; no undefined cache_check is left for the
// module loader, which would make the livepatch depend on sunrpc.
func TestFinalizeCrossModule(t *testing.T) {
	f := crossObject(t)
	require.NoError(t, Finalize(f, func(s string) bool { return s == "printk" }))
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))
	ef, err := elf.NewFile(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	syms, err := ef.Symbols()
	require.NoError(t, err)

	byName := map[string]elf.Symbol{}
	for _, s := range syms {
		byName[s.Name] = s
		assert.False(t, strings.HasPrefix(s.Name, crossKlpPrefix), "%s: link-time name left", s.Name)
		assert.NotEqual(t, "cache_check", s.Name, "a plain undefined cache_check makes the module depend on sunrpc")
	}
	for _, name := range []string{".klp.sym.sunrpc.cache_check,0", ".klp.sym.nfsd.nfsd_helper,0"} {
		s, ok := byName[name]
		require.True(t, ok, name)
		assert.Equal(t, elf.SectionIndex(0xff20), s.Section, "%s is SHN_LIVEPATCH", name)
	}
	assert.Equal(t, elf.SHN_UNDEF, byName["printk"].Section, "vmlinux's export stays a normal relocation")

	// Every klp relocation, whichever object's symbol it refers to, is in
	// a .klp.rela.nfsd section; the kernel never applies one named after
	// an object the patch does not patch.
	want := map[string][]string{
		".klp.rela.nfsd..text.patched":      {".klp.sym.nfsd.nfsd_helper,0", ".klp.sym.sunrpc.cache_check,0"},
		".klp.rela.nfsd..text.also_patched": {".klp.sym.sunrpc.cache_check,0"},
	}
	got := map[string][]string{}
	for _, sec := range ef.Sections {
		if sec.Type != elf.SHT_RELA || sec.Flags&elf.SectionFlag(0x00100000) == 0 {
			assert.False(t, strings.HasPrefix(sec.Name, ".klp.rela."), "%s without SHF_RELA_LIVEPATCH", sec.Name)
			continue
		}
		data, err := sec.Data()
		require.NoError(t, err)
		for off := 0; off+24 <= len(data); off += 24 {
			info := ef.ByteOrder.Uint64(data[off+8:])
			got[sec.Name] = append(got[sec.Name], syms[elf.R_SYM64(info)-1].Name)
		}
	}
	for _, names := range got {
		slices.Sort(names)
	}
	assert.Equal(t, want, got)
}

// TestCheckArchPatchingCrossModule: a cross-module klp relocation is
// written when the patched module loads, after its alternatives were
// applied, on any kernel.
func TestCheckArchPatchingCrossModule(t *testing.T) {
	f := archObject(t, "")
	for _, name := range []string{"hidden_helper", "hidden_ops"} {
		require.NoError(t, RenameUndefined(f, name, CrossKlpSymbolName("nfsd", "sunrpc", name, 0)))
	}
	want := []ArchRelocationError{
		{Function: "paravirt_uses_hidden", Section: ".parainstructions", Symbol: ".klp.sym.sunrpc.hidden_ops,0"},
		{Function: "replacement_calls_hidden", Section: ".altinstructions", Replacement: true, Symbol: ".klp.sym.sunrpc.hidden_helper,0"},
		{Function: "site_calls_hidden", Section: ".altinstructions", Symbol: ".klp.sym.sunrpc.hidden_helper,0"},
	}
	assert.Equal(t, want, archErrors(t, CheckArchPatching(f, true)))
}
