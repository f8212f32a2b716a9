// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// kernelCFlags are the code generation flags of an x86_64 kernel build
// plus the two section flags kpatch-style builds add.
var kernelCFlags = []string{
	"-O2", "-ffunction-sections", "-fdata-sections", "-pg", "-mfentry", "-mrecord-mcount",
	"-mcmodel=kernel", "-fno-pic", "-mno-red-zone", "-fno-asynchronous-unwind-tables",
	"-fno-stack-protector", "-fno-common", "-fno-strict-aliasing", "-nostdinc", "-g",
}

func findCC(t testing.TB) string {
	for _, cc := range []string{"gcc-12", "gcc"} {
		if path, err := exec.LookPath(cc); err == nil {
			return path
		}
	}
	t.Skip("needs gcc-12 (or gcc) to compile the C fixtures")
	return ""
}

// compileFixture builds testdata/objdiff/NAME.c as original and patched
// objects and returns their paths.
func compileFixture(t testing.TB, name string) (orig, patched string) {
	t.Helper()
	return compileFixtureFlags(t, name)
}

// compileFixtureFlags is compileFixture with extra compiler flags.
func compileFixtureFlags(t testing.TB, name string, flags ...string) (orig, patched string) {
	t.Helper()
	cc := findCC(t)
	src := filepath.Join("..", "..", "testdata", "objdiff", name+".c")
	dir := t.TempDir()
	build := func(out string, extra ...string) string {
		path := filepath.Join(dir, out)
		args := append(append(append(append([]string{}, kernelCFlags...), flags...), extra...), "-c", "-o", path, src)
		cmd := exec.Command(cc, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), "compiling %s: %s", src, stderr.String())
		return path
	}
	return build(name + ".orig.o"), build(name+".patched.o", "-DPATCHED")
}

func diffFixture(t testing.TB, name string, opts *Options) (*Result, error) {
	orig, patched := compileFixture(t, name)
	if opts == nil {
		opts = &Options{}
	}
	opts.Name = name + ".o"
	return Diff(mustOpen(t, orig), mustOpen(t, patched), opts)
}

// TestFixtures diffs one C fixture pair per rule.
func TestFixtures(t *testing.T) {
	cases := []struct {
		name     string
		opts     *Options
		changed  []string
		new      []string
		klp      []string // livepatch relocation targets (prefixes for name.N)
		refusal  string   // rule text of the expected UnsupportedError
		noChange bool
	}{
		{name: "changed-function", changed: []string{"show_value"}},
		{name: "no-change", noChange: true},
		{name: "line-only", noChange: true},
		{name: "line-and-code", changed: []string{"sleepy"}},
		{name: "new-function", changed: []string{"caller"}, new: []string{"new_helper"}},
		{name: "changed-data", refusal: "changed data"},
		{name: "data-layout", refusal: "object size mismatch"},
		{name: "init-changed", refusal: "changed section not selected for inclusion"},
		{name: "init-string-only", refusal: RuleInitChanged},
		{name: "init-string-and-code", changed: []string{"runtime_value"}},
		{name: "no-fentry", refusal: "doesn't have a patchable function entry"},
		{name: "static-local", changed: []string{"count_calls"}, klp: []string{"calls."}},
		{name: "static-local-removed", refusal: "patched count_calls no longer uses its static local variable calls."},
		{name: "static-helper", changed: []string{"entry"}, klp: []string{"helper"}},
		{name: "linkage-change", refusal: "symbol changed from STB_LOCAL STT_FUNC to STB_GLOBAL STT_FUNC"},
		{name: "cold-child", changed: []string{"checked"}},
		{name: "group-changed", refusal: "changed section is part of section group grouped_helper (COMDAT)"},
		{name: "jump-label", changed: []string{"with_label"}},
		{name: "jump-label", opts: &Options{Parent: "mymod"}, refusal: "jump label whose static key lives in the module"},
		{name: "static-call", changed: []string{"use_static_call", "use_tracepoint_call"}},
		{name: "static-call", opts: &Options{Parent: "mymod"}, refusal: "static call whose key lives in the module"},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.opts.withDefaults().Parent, func(t *testing.T) {
			res, err := diffFixture(t, c.name, c.opts)
			switch {
			case c.noChange:
				require.ErrorIs(t, err, ErrNoChanges)
				return
			case c.refusal != "":
				require.ErrorIs(t, err, ErrUnsupportedChange)
				var ue *UnsupportedError
				require.True(t, errors.As(err, &ue))
				require.Contains(t, err.Error(), c.refusal)
				require.Contains(t, err.Error(), c.name+".o", "the error names the object")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, sorted(c.changed), names(res.Changed), "changed")
			assert.Equal(t, sorted(c.new), names(res.New), "new")
			klp := res.LivepatchSymbols()
			for _, want := range c.klp {
				assert.True(t, slices.ContainsFunc(klp, func(s string) bool { return strings.HasPrefix(s, want) }),
					"klp relocation to %s* in %v", want, klp)
			}
			path := filepath.Join(t.TempDir(), "patch.o")
			require.NoError(t, res.WriteFile(path))
			checkObjectTools(t, path)
		})
	}
}

// TestFixtureDebugInfoPruned: DWARF of the included function is kept,
// relocated only against what the patch object defines.
func TestFixtureDebugInfoPruned(t *testing.T) {
	res, err := diffFixture(t, "changed-function", nil)
	require.NoError(t, err)
	var info bool
	for _, s := range res.out.Sections {
		if s.Name == ".debug_info" {
			info = true
			require.NotNil(t, s.Rela)
			for _, r := range s.Rela.Relas {
				require.NotNil(t, r.Sym.Section, "debug relocation against defined %s", r.Sym.Name)
				require.NotEqual(t, ".text.untouched", r.Sym.Section.Name)
			}
		}
	}
	require.True(t, info, ".debug_info kept")
	for _, r := range res.Relocations {
		require.False(t, isDebug(&elfobj.Section{Name: r.Section}), "debug relocations are not left for the linker")
	}
}

// TestFixtureJumpTableFiltered checks that only the jump label entries of
// included functions survive, and that the output links.
func TestFixtureJumpTableFiltered(t *testing.T) {
	res, err := diffFixture(t, "jump-label", nil)
	require.NoError(t, err)
	var jt []byte
	for _, s := range res.out.Sections {
		if s.Name == "__jump_table" {
			jt = s.Data
			require.NotNil(t, s.Rela)
			require.Len(t, s.Rela.Relas, 3, "one entry: code, target, key")
			for _, r := range s.Rela.Relas[:2] {
				require.Equal(t, "with_label", r.Sym.Name)
			}
			require.Equal(t, "feature_key", s.Rela.Relas[2].Sym.Name)
		}
	}
	require.Len(t, jt, 16)
}

// TestFixtureOutputContents checks the patch object of a simple change
// in detail: the changed function is defined and LOCAL, unchanged callees
// are undefined references, and __mcount_loc points at the fentry call.
func TestFixtureOutputContents(t *testing.T) {
	res, err := diffFixture(t, "static-helper", nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "patch.o")
	require.NoError(t, res.WriteFile(path))
	out, err := exec.Command("readelf", "-s", "-r", "-W", path).CombinedOutput()
	if err != nil {
		t.Skipf("readelf: %v", err)
	}
	text := string(out)
	require.Regexp(t, `FUNC\s+LOCAL\s+DEFAULT\s+\d+ entry\n`, text)
	require.Regexp(t, `NOTYPE\s+GLOBAL\s+DEFAULT\s+UND helper\n|FUNC\s+GLOBAL\s+DEFAULT\s+UND helper\n`, text)
	require.Contains(t, text, ".rela__mcount_loc")
	require.Regexp(t, `R_X86_64_64\s+0+\s+entry \+ 0`, text)
	for _, r := range res.Relocations {
		if r.Symbol == "helper" {
			require.True(t, r.Livepatch)
			require.True(t, r.DefinedInObject)
			require.Equal(t, "STB_LOCAL", r.Bind.String())
		}
	}
	_ = os.Remove(path)
}

// TestFixtureFixupRegions checks that .fixup keeps only the regions of
// kept __ex_table entries, and that the entry points at its new offset.
func TestFixtureFixupRegions(t *testing.T) {
	res, err := diffFixture(t, "fixup", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"read_first"}, names(res.Changed))
	var fixup, ex []byte
	var exRelas int
	for _, s := range res.out.Sections {
		switch s.Name {
		case ".fixup":
			fixup = s.Data
			require.NotNil(t, s.Rela)
			require.Len(t, s.Rela.Relas, 1, "the jump back")
			require.Equal(t, "read_first", s.Rela.Relas[0].Sym.Name, "jumps back into the patched copy")
		case "__ex_table":
			ex = s.Data
			exRelas = len(s.Rela.Relas)
			for _, r := range s.Rela.Relas {
				if r.Sym.Name == ".fixup" {
					require.Equal(t, int64(0), r.Addend, "entry points at the first kept region")
				}
			}
		}
	}
	require.Len(t, ex, 12, "one exception table entry")
	require.Equal(t, 2, exRelas)
	require.NotEmpty(t, fixup)
	path := filepath.Join(t.TempDir(), "patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
}

// TestFixtureFunctionPointer: taking the address of a changed function
// yields the original's address (a klp relocation), while calls go to
// the patched copy.
func TestFixtureFunctionPointer(t *testing.T) {
	res, err := diffFixture(t, "function-pointer", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"handler", "setup"}, names(res.Changed))
	var pointer bool
	for _, r := range res.Relocations {
		if r.Symbol == "handler" {
			pointer = true
			require.True(t, r.Livepatch)
			require.Equal(t, ".text.setup", r.Section)
		}
	}
	require.True(t, pointer, "function pointer to the original handler")
	var defined, undefined int
	for _, s := range res.out.Symbols {
		if s.Name == "handler" {
			if s.IsUndefined() {
				undefined++
			} else {
				defined++
			}
		}
	}
	require.Equal(t, 1, defined, "patched copy of handler")
	require.Equal(t, 1, undefined, "reference to the original handler")
	for _, rs := range res.out.Sections {
		if rs.Name != ".rela.text.setup" {
			continue
		}
		var call bool
		for _, r := range rs.Relas {
			if r.Sym.Name == "handler" && !r.Sym.IsUndefined() {
				call = true
			}
		}
		require.True(t, call, "the direct call goes to the patched copy")
	}
	path := filepath.Join(t.TempDir(), "patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
}

// TestFixtureStaticCallSites: both sites survive for vmlinux; for a module
// the tracepoint site is dropped (and the other refused, see TestFixtures).
func TestFixtureStaticCallSites(t *testing.T) {
	res, err := diffFixture(t, "static-call", nil)
	require.NoError(t, err)
	var keys []string
	for _, s := range res.out.Sections {
		if s.Name == ".static_call_sites" {
			require.Len(t, s.Data, 16)
			for _, r := range s.Rela.Relas {
				if strings.HasPrefix(r.Sym.Name, "__SCK__") {
					keys = append(keys, r.Sym.Name)
				}
			}
		}
	}
	require.Equal(t, []string{"__SCK__my_hook", "__SCK__tp_func_my_event"}, keys)

	_, err = diffFixture(t, "static-call", &Options{Parent: "mymod"})
	var all UnsupportedErrors
	if !errors.As(err, &all) {
		var one *UnsupportedError
		require.True(t, errors.As(err, &one), "%v", err)
		all = UnsupportedErrors{one}
	}
	require.Len(t, all, 1, "only the non-tracepoint key is refused")
	require.Equal(t, "__SCK__my_hook", all[0].Symbol)
}
