// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireLocalCold checks that the patch object carries the .cold parts of
// the given functions as its own code: each is defined there, and nothing
// (no relocation left for the linker, no undefined symbol) refers to a
// .cold part of the running kernel, whose code would jump back into the
// original function.
func requireLocalCold(t *testing.T, res *Result, parents ...string) {
	t.Helper()
	var defined []string
	for _, s := range res.out.Symbols {
		if _, kind := parentName(s.Name); kind != "cold" {
			continue
		}
		require.False(t, s.IsUndefined(), "patch object refers to the running kernel's %s", s.Name)
		require.Equal(t, elf.STT_FUNC, s.Type, s.Name)
		require.Equal(t, elf.STB_LOCAL, s.Bind, s.Name)
		defined = append(defined, s.Name)
	}
	for _, p := range parents {
		require.True(t, slices.ContainsFunc(defined, func(n string) bool { q, _ := parentName(n); return q == p }),
			"patch object defines a .cold part of %s (defined: %v)", p, defined)
	}
	for _, r := range res.Relocations {
		_, kind := parentName(r.Symbol)
		require.NotEqual(t, "cold", kind, "relocation in %s+%#x left for the kernel's %s", r.Section, r.Offset, r.Symbol)
	}
	for _, s := range res.Included {
		if _, kind := parentName(s.Name); kind == "cold" {
			require.True(t, strings.HasPrefix(s.Section, ".text"), "%s in %s", s.Name, s.Section)
		}
	}
}

// TestFixtureColdPartOfChangedParent: limited changes only in its hot
// path, so limited.cold is identical; it must still be included, since it
// jumps back into (the new) limited.
func TestFixtureColdPartOfChangedParent(t *testing.T) {
	res, err := diffFixture(t, "cold-parent-changed", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"limited"}, names(res.Changed))
	require.Empty(t, res.New)
	requireLocalCold(t, res, "limited")
	// The jump back from the cold part lands in the patched copy.
	var back bool
	for _, s := range res.out.Sections {
		if s.IsRela() && s.Target != nil && s.Target.Name == ".text.unlikely.limited" {
			for _, r := range s.Relas {
				if r.Sym.Name == "limited" {
					require.False(t, r.Sym.IsUndefined(), "jump back into the original limited")
					back = true
				}
			}
		}
	}
	require.True(t, back, "limited.cold jumps back into limited")
	path := filepath.Join(t.TempDir(), "patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
}

// TestFixtureChangedColdPart: the change is inside the cold part itself.
func TestFixtureChangedColdPart(t *testing.T) {
	res, err := diffFixture(t, "cold-child", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"checked"}, names(res.Changed))
	requireLocalCold(t, res, "checked")
}

// TestCorpusColdParts: in every corpus case whose changed function has a
// .cold part, the patch object carries that part.
func TestCorpusColdParts(t *testing.T) {
	dir, cases := loadCorpus(t)
	want := map[string][]string{
		"cold-add":             {"meminfo_proc_open"},
		"cold-change-parent":   {"meminfo_proc_show"},
		"cold-change-sub":      {"meminfo_proc_open"},
		"cold-del-sub":         nil, // the patched function has no cold part any more
		"cold-noid-issue-1160": {"sync_request_write"},
	}
	seen := 0
	for _, c := range cases {
		parents, ok := want[c.Case]
		if !ok {
			continue
		}
		seen++
		t.Run(c.Case, func(t *testing.T) {
			res, err := diffCorpusCase(t, dir, c)
			require.NoError(t, err)
			requireLocalCold(t, res, parents...)
		})
	}
	require.Equal(t, len(want), seen, "all cold cases present in the corpus")
}
