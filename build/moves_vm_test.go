// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"debug/elf"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// cloneMove is a patch against the lab kernel that makes GCC drop or add
// a clone of a function: the running kernel has from, the patched object
// to instead, and the callers must be patched to call to.
type cloneMove struct {
	patch   string
	object  string
	from    string // in the lab vmlinux, not in the module
	to      string // new in the module, not in the lab vmlinux
	callers []string
	// prove loads and unloads the module (guest path ko) and checks its
	// effect before, during and after.
	prove func(t *testing.T, ko string)
}

var cloneMoves = []cloneMove{
	{patch: "oom-isra-dropped.patch", object: "fs/proc/base.o",
		from: "__set_oom_adj.isra.0", to: "__set_oom_adj", callers: []string{"oom_score_adj_write", "oom_adj_write"},
		prove: proveOOMLogged},
	{patch: "vulnerabilities-constprop-dropped.patch", object: "arch/x86/kernel/cpu/bugs.o",
		from: "cpu_show_common.constprop.0", to: "cpu_show_common", callers: []string{"cpu_show_meltdown", "cpu_show_spectre_v1"},
		prove: proveEffect(effect{"/sys/devices/system/cpu/vulnerabilities/meltdown", "klpkit: cpu/meltdown\n"})},
	{patch: "smaps-part-dropped.patch", object: "fs/proc/task_mmu.o",
		from: "smap_gather_stats.part.0", to: "smap_gather_stats", callers: []string{"show_smaps_rollup", "show_smap"},
		prove: proveSmapsSwap},
	{patch: "io-isra-added.patch", object: "fs/proc/base.o",
		from: "do_io_accounting", to: "do_io_accounting.isra.0", callers: []string{"proc_tid_io_accounting", "proc_tgid_io_accounting"},
		prove: proveEffect(effect{"/proc/self/io", "\nklpkit: isra\n"})},
	{patch: "stat-constprop-added.patch", object: "fs/proc/array.o",
		from: "do_task_stat", to: "do_task_stat.constprop.0", callers: []string{"proc_tid_stat", "proc_tgid_stat"},
		prove: proveEffect(effect{"/proc/self/stat", " klpkit-whole\n"})},
	{patch: "io-part-added.patch", object: "fs/proc/base.o",
		from: "do_io_accounting", to: "do_io_accounting.part.0", callers: []string{"proc_tid_io_accounting", "proc_tgid_io_accounting"},
		prove: proveEffect(effect{"/proc/self/io", "\nklpkit: part\n"})},
}

// cloneMoveModules: module 0 moves a whole function into its cold part's
// section; the others follow cloneMoves, in order.
func cloneMoveModules() []vmModule {
	mods := []vmModule{{patches: []string{"comm-hot-to-cold.patch"}}}
	for _, m := range cloneMoves {
		mods = append(mods, vmModule{patches: []string{m.patch}, check: m.check})
	}
	return mods
}

// check proves on the host that the move happens in this build: the
// running kernel has from and not to, the module to as new code and not
// from, and the callers are patched to call to.
func (m cloneMove) check(t *testing.T, tree *build.Tree, res *build.Result) {
	t.Helper()
	require.Len(t, res.Objects, 1, "%s", m.patch)
	o := res.Objects[0]
	require.Equal(t, m.object, o.Path)
	require.Equal(t, []string{m.to}, o.New, "%s: %s is new", m.patch, m.to)
	for _, c := range m.callers {
		require.Contains(t, o.Changed, c, "%s: a caller of %s is patched", m.patch, m.to)
	}
	require.NotContains(t, o.Changed, m.from)
	vmlinux := elfFunctions(t, tree.Vmlinux)
	require.Contains(t, vmlinux, m.from, "the lab kernel runs %s", m.from)
	require.NotContains(t, vmlinux, m.to)
	mod := elfFunctions(t, res.Module)
	require.Contains(t, mod, m.to)
	require.NotContains(t, mod, m.from)
}

// elfFunctions lists the names of the function symbols of an ELF file.
func elfFunctions(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	var names []string
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return names
}

// proveEffect: e shows only while the module is live.
func proveEffect(e effect) func(t *testing.T, ko string) {
	return func(t *testing.T, ko string) { loadUnload(e)(t, []string{ko}) }
}

// oomLogged writes to /proc/self/oom_score_adj and counts the lines the
// patched __set_oom_adj has logged for such writes.
func oomLogged(t *testing.T) int {
	t.Helper()
	require.NoError(t, os.WriteFile("/proc/self/oom_score_adj", []byte("7\n"), 0))
	log, err := vmtest.Dmesg()
	require.NoError(t, err)
	return strings.Count(log, "klpkit: oom_score_adj sets oom_score_adj 7")
}

func proveOOMLogged(t *testing.T, ko string) {
	require.Zero(t, oomLogged(t))
	name := load(t, ko)
	require.Equal(t, 1, oomLogged(t), "the patched __set_oom_adj logs the write")
	unload(t, name)
	require.Equal(t, 1, oomLogged(t), "nothing logged after unload")
}

func proveSmapsSwap(t *testing.T, ko string) {
	smaps := effect{"/proc/self/smaps_rollup", ""}
	require.Zero(t, counter(t, smaps, "Swap:"), "the guest has no swap")
	name := load(t, ko)
	swap := counter(t, smaps, "Swap:")
	t.Logf("Swap: %d kB", swap)
	require.Positive(t, swap, "the patched smap_gather_stats counts a page per VMA")
	unload(t, name)
	require.Zero(t, counter(t, smaps, "Swap:"))
}

// cloneMovesGuest loads and unloads each module of cloneMoveModules in
// turn; each one's effect shows only while it is live.
func cloneMovesGuest(t *testing.T, kos []string) {
	t.Log("hot-to-cold: proc_task_name moves into .text.unlikely")
	loadUnload(effect{"/proc/self/comm", "klpkit-cold-"}, effect{"/proc/self/statm", " klpkit\n"})(t, kos[0:1])
	for i, m := range cloneMoves {
		t.Logf("%s: %s becomes %s", m.patch, m.from, m.to)
		m.prove(t, kos[i+1])
	}
}
