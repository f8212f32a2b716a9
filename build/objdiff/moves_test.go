// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// TestFixtureMoves: GCC moves code between a function and its compiler
// children (.cold, .part, .isra, .constprop) differently in the original
// and patched builds. Whatever the move, every function whose code holds
// the change is redirected, and nothing is taken for new that the running
// kernel already has under its name.
func TestFixtureMoves(t *testing.T) {
	cases := []struct {
		name    string
		changed []string
		new     []string
	}{
		// The whole function moves into the section its cold part had.
		{name: "move-hot-to-cold", changed: []string{"report_range", "report_user"}},
		{name: "move-cold-to-hot", changed: []string{"report_range", "report_user"}},
		// The change is inlined into the callers; the .part clone goes.
		{name: "move-part-inlined", changed: []string{"lookup_user1", "lookup_user2"}},
		{name: "move-part-split", changed: []string{"lookup_user1", "lookup_user2"}, new: []string{"lookup.part.0"}},
		{name: "move-isra-dropped", changed: []string{"cfg_entry1", "cfg_entry2"}, new: []string{"compute"}},
		{name: "move-isra-added", changed: []string{"cfg_entry1", "cfg_entry2"}, new: []string{"compute.isra.0"}},
		{name: "move-constprop-dropped", changed: []string{"scaled_first", "scaled_second"}, new: []string{"scaled"}},
		{name: "move-constprop-added", changed: []string{"scaled_first", "scaled_second"}, new: []string{"scaled.constprop.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := diffFixture(t, c.name, nil)
			require.NoError(t, err)
			assert.Equal(t, sorted(c.changed), names(res.Changed), "changed")
			assert.Equal(t, sorted(c.new), names(res.New), "new")
			path := filepath.Join(t.TempDir(), "patch.o")
			require.NoError(t, res.WriteFile(path))
			checkObjectTools(t, path)
		})
	}
}

// TestNewFunctionWithOriginalNamesakeRefused: should correlation ever
// fail to pair a function, the module must not carry it as "new" while
// the running kernel keeps the original: the guard refuses it.
func TestNewFunctionWithOriginalNamesakeRefused(t *testing.T) {
	orig, patched := compileFixture(t, "move-hot-to-cold")
	of, err := elfobj.Read(mustOpen(t, orig))
	require.NoError(t, err)
	pf, err := elfobj.Read(mustOpen(t, patched))
	require.NoError(t, err)
	d := &differ{name: "move-hot-to-cold.o", orig: newObject("o", of), patched: newObject("p", pf), opts: &Options{}}
	errs := d.checkNewFunctions(&Result{New: []Function{{Name: "report_range"}, {Name: "brand_new"}}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs, ErrUnsupportedChange)
	require.Equal(t, "report_range", errs[0].Symbol)
	require.Contains(t, errs.Error(), RuleUncorrelatedFunction)
	require.Contains(t, errs.Error(), "move-hot-to-cold.o")
}

// TestFunctionStates: the verdict on every function of the patched
// object is kept for build's changed-line check.
func TestFunctionStates(t *testing.T) {
	res, err := diffFixture(t, "move-isra-dropped", nil)
	require.NoError(t, err)
	st, ok := res.Function("cfg_entry1")
	require.True(t, ok)
	require.Equal(t, FunctionState{Status: "CHANGED", Original: "cfg_entry1", Included: true}, st)
	st, ok = res.Function("compute")
	require.True(t, ok)
	require.Equal(t, "NEW", st.Status)
	require.Empty(t, st.Original)
	_, ok = res.Function("compute.isra.0")
	require.False(t, ok, "the original's clone is not a function of the patched object")
}

// TestFixtureLocalAlias: a position-independent build calls fib through
// fib.localalias, an alias at fib's own address. Each pairs with its
// namesake, so the alias follows fib. Only correlation is checked: -fPIC
// code reaches __fentry__ through the GOT, which the fentry rule refuses.
// (x86_64 kernels are not built -fPIC, and the lab's vmlinux has no
// .localalias symbol.)
func TestFixtureLocalAlias(t *testing.T) {
	orig, patched := compileFixtureFlags(t, "move-localalias", "-mcmodel=small", "-fPIC", "-fno-semantic-interposition")
	of, err := elfobj.Read(mustOpen(t, orig))
	require.NoError(t, err)
	pf, err := elfobj.Read(mustOpen(t, patched))
	require.NoError(t, err)
	d := &differ{name: "move-localalias.o", orig: newObject("o", of), patched: newObject("p", pf), opts: &Options{}}
	require.NoError(t, d.orig.normalize())
	require.NoError(t, d.patched.normalize())
	require.NoError(t, d.correlate())
	for _, name := range []string{"fib", "fib.localalias", "fib_user"} {
		a := of.Symbol(name)
		require.NotNil(t, a, name)
		tw := d.orig.sym[a].twin
		require.NotNil(t, tw, "%s has a twin", name)
		require.Equal(t, name, tw.Name)
	}
	require.Equal(t, d.patched.sec[pf.Symbol("fib").Section].twin, of.Symbol("fib").Section)
}
