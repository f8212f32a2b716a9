// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

func TestDiffMalformedInput(t *testing.T) {
	orig, _ := compileFixture(t, "changed-function")
	good, err := os.ReadFile(orig)
	require.NoError(t, err)
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/3],
		"not elf":   []byte("#!/bin/sh\necho hello\n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Diff(bytes.NewReader(good), bytes.NewReader(bad), &Options{Name: "fs/x.o"})
			require.ErrorIs(t, err, elfobj.ErrMalformed)
			require.Contains(t, err.Error(), "fs/x.o: patched object")
			_, err = Diff(bytes.NewReader(bad), bytes.NewReader(good), &Options{Name: "fs/x.o"})
			require.ErrorIs(t, err, elfobj.ErrMalformed)
			require.Contains(t, err.Error(), "fs/x.o: original object")
		})
	}
}

// TestWrongEntrySize: a configured special-section entry size that does
// not fit the object is an error naming the section, never a silently
// mis-grouped table (kpatch does not check this).
func TestWrongEntrySize(t *testing.T) {
	_, err := diffFixture(t, "jump-label", &Options{Sizes: Sizes{Jump: 24}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "__jump_table")
	require.Contains(t, err.Error(), "Options.Sizes")
}

func TestUnsupportedErrorFormat(t *testing.T) {
	e := &UnsupportedError{Object: "fs/proc/meminfo.o", Symbol: "x", Section: ".data.x", Rule: "changed data", Hint: "use a shadow variable"}
	require.Equal(t, "fs/proc/meminfo.o: x (.data.x): changed data; use a shadow variable", e.Error())
	var all error = UnsupportedErrors{e, &UnsupportedError{Object: "o", Section: ".init.text", Rule: "r"}}
	require.ErrorIs(t, all, ErrUnsupportedChange)
	var got *UnsupportedError
	require.True(t, errors.As(all, &got))
	require.Equal(t, "x", got.Symbol)
	require.Contains(t, all.Error(), "2 unsupported changes")
}

func TestWriteFileLeavesNothingOnFailure(t *testing.T) {
	res := &Result{Object: "o"}
	path := filepath.Join(t.TempDir(), "out.o")
	require.Error(t, res.WriteFile(path))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Empty(t, entries, "no partial or temporary file")
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		match bool
	}{
		{"foo.isra.0", "foo.isra.1", true},
		{"foo.constprop.3", "foo.constprop.7", true},
		{"foo", "foo.123", true},
		{"foo", "foo.isra.0", false},
		{"__UNIQUE_ID_ddebug12", "__UNIQUE_ID_ddebug40", true},
		{".rodata.str1.1", ".rodata.str1.8", false},
		{"bar.part.2", "bar.cold", false},
	} {
		require.Equal(t, c.match, namesMatch(c.a, c.b), "%s vs %s", c.a, c.b)
	}
	for name, want := range map[string][2]string{
		"foo.cold":        {"foo", "cold"},
		"foo.cold.12":     {"foo", "cold"},
		"foo.isra.0.cold": {"foo.isra.0", "cold"},
		"foo.part.3":      {"foo", "part"},
		"foo.isra.0":      {"", ""},
	} {
		p, k := parentName(name)
		require.Equal(t, want, [2]string{p, k}, name)
	}
	require.True(t, neverCorrelated("__already_done.12"))
	require.True(t, neverCorrelated("init_srcu_struct_fields.__key.14"))
	require.False(t, neverCorrelated("calls.0"))
}

// withLivepatchRela returns obj with a .klp.rela section added next to
// the first text section's relocations, as in a finished livepatch module.
func withLivepatchRela(t testing.TB, obj []byte) []byte {
	f, err := elfobj.Parse(obj)
	require.NoError(t, err)
	for _, s := range f.Sections {
		if s.Rela == nil || !isText(s) {
			continue
		}
		klp := &elfobj.Section{Name: ".klp.rela.vmlinux." + s.Name, Type: elf.SHT_RELA, Addralign: 8, Entsize: 24, Target: s,
			Flags: elf.SHF_ALLOC | elf.SHF_INFO_LINK | elfobj.SHFRelaLivepatch, Relas: []*elfobj.Rela{s.Rela.Relas[0]}}
		s.MoreRelas = append(s.MoreRelas, klp)
		f.Sections = append(f.Sections, klp)
		var out bytes.Buffer
		require.NoError(t, elfobj.Write(&out, f))
		return out.Bytes()
	}
	t.Fatal("no relocated text section")
	return nil
}

// TestDiffRefusesLinkedModule: an object with two relocation sections for
// one section (a finished livepatch module) is not compiler output; Diff
// says so instead of comparing half of its relocations.
func TestDiffRefusesLinkedModule(t *testing.T) {
	orig, _ := compileFixture(t, "changed-function")
	good, err := os.ReadFile(orig)
	require.NoError(t, err)
	module := withLivepatchRela(t, good)
	_, err = Diff(bytes.NewReader(good), bytes.NewReader(module), &Options{Name: "fs/x.o"})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoChanges)
	require.Contains(t, err.Error(), "fs/x.o: patched object: section .text.")
	require.Contains(t, err.Error(), "has 2 relocation sections (.klp.rela.vmlinux..text.")
	require.Contains(t, err.Error(), "expected a compiler-built object")
}
