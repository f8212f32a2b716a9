// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestLinkRecipeMatchesMakeLab links modules against the lab kernel's
// headers: the first link runs make and records kbuild's commands, a
// second one, under another name and with another number of patch
// objects, replays them, and its module must be byte-identical to what
// make gives for the same inputs.
func TestLinkRecipeMatchesMakeLab(t *testing.T) {
	l := vmtest.RequireLab(t)
	args := lab.KbuildArgs(l.KernelRelease)
	tmp := t.TempDir()
	var objs []string
	for i, src := range []string{
		"int klpkit_new_0_0(void) { return 1; }\n",
		"static int counter;\nint klpkit_new_1_0(void) { return ++counter; }\n",
	} {
		c := filepath.Join(tmp, "p"+string(rune('0'+i))+".c")
		require.NoError(t, os.WriteFile(c, []byte(src), 0o644))
		o := c[:len(c)-1] + "o"
		out, err := exec.Command("gcc-12", "-c", "-O2", "-fno-pic", "-mcmodel=kernel", "-mno-red-zone", "-ffunction-sections", "-o", o, c).CombinedOutput()
		require.NoError(t, err, "%s", out)
		objs = append(objs, o)
	}
	module := func(name string, n int) *Module {
		m := &Module{Name: name, Objects: []Object{{Name: "vmlinux"}}}
		for i := 0; i < n; i++ {
			m.Objects[0].Funcs = append(m.Objects[0].Funcs, Func{OldName: []string{"cmdline_proc_show", "meminfo_proc_show"}[i], NewSymbol: []string{"klpkit_new_0_0", "klpkit_new_1_0"}[i]})
		}
		return m
	}
	recipes := filepath.Join(tmp, "cache")
	link := func(m *Module, objs []string, recipeDir string) ([]byte, string, []string) {
		t.Helper()
		work, err := os.MkdirTemp(tmp, "work-")
		require.NoError(t, err)
		var notes []string
		ko, err := Link(t.Context(), m, LinkOptions{KbuildDir: l.HeadersDir, MakeArgs: args, WorkDir: work, Objects: objs,
			Exported: func(string) bool { return true }, Release: l.KernelRelease, RecipeDir: recipeDir,
			Notify: func(s string) { notes = append(notes, s) }})
		require.NoError(t, err)
		return ko, work, notes
	}
	_, _, notes := link(module("test-recipe-first", 1), objs[:1], recipes)
	require.Empty(t, notes, "the first link records the commands without a word")
	stored, err := filepath.Glob(filepath.Join(recipes, "link-recipes", "*.json"))
	require.NoError(t, err)
	require.Len(t, stored, 1)
	data, err := os.ReadFile(stored[0])
	require.NoError(t, err)
	require.NotContains(t, string(data), "Unusable")

	replayed, work, notes := link(module("livepatch-second", 2), objs, recipes)
	require.Empty(t, notes)
	_, err = os.Stat(filepath.Join(work, ".livepatch-second.ko.cmd"))
	require.ErrorIs(t, err, os.ErrNotExist, "the second link ran make: kbuild wrote its .cmd file")
	made, _, _ := link(module("livepatch-second", 2), objs, "")
	require.True(t, bytes.Equal(made, replayed), "replayed commands give another module than make")
}
