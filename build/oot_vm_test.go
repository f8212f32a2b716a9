// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// The out-of-tree module of testdata/oot and its livepatch.
const (
	ootSrc      = "../testdata/oot/klpkit_oot"
	ootPatch    = "../testdata/oot/klpkit_oot.patch"
	ootGuestKo  = "/klp/klpkit_oot.ko"
	ootGuestFix = "/klp/klpkit-oot-fix.ko"
	ootProc     = "/proc/klpkit_oot"
)

// binfmtAndOOTModules: the module case's in-tree module and, in the same
// boot, the out-of-tree one with its livepatch.
func binfmtAndOOTModules(t *testing.T, l *lab.Lab, tree *build.Tree) []vmtest.File {
	return append(binfmtModule(t, l, tree), ootModule(t, l, tree)...)
}

// ootModule builds the out-of-tree test module against the lab headers,
// as its user would have, then its livepatch with Options.OOTModule, and
// checks on the host what the livepatch holds: one klp object named for
// the module, and the module's static variable reached through a klp
// relocation against the module.
func ootModule(t *testing.T, l *lab.Lab, tree *build.Tree) []vmtest.File {
	t.Helper()
	kos, err := l.BuildModule(t.Context(), ootSrc, t.TempDir(), nil)
	require.NoError(t, err)
	require.Len(t, kos, 1)
	out := t.TempDir()
	start := time.Now()
	var msgs []string
	res, err := build.Run(t.Context(), build.Options{
		Source:    tree,
		Patches:   []string{ootPatch},
		Name:      "klpkit-oot-fix",
		OutputDir: out,
		OOTModule: &build.OOTModule{Module: kos[0], Source: ootSrc},
		Toolchain: labToolchain(l),
		Progress: klpkit.On(func(e build.Event) {
			t.Logf("build: %s: %s", e.Stage, e.Message)
			msgs = append(msgs, e.Message)
		}),
	})
	require.NoError(t, err)
	t.Logf("built %s in %v: %+v", res.Module, time.Since(start).Round(time.Millisecond), res.Objects)
	require.Equal(t, []build.Object{{Path: "klpkit_oot.o", Target: "klpkit_oot", Changed: []string{"klpkit_oot_show"}}}, res.Objects)
	// The changed line was found in the module's debug information (the
	// copy's paths), so the check that it runs did look at it.
	require.Contains(t, msgs, "1 function(s) hold changed lines: the code of each changed line runs once the module is loaded")

	f, err := elf.Open(res.Module)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	var names []string
	for _, s := range syms {
		names = append(names, s.Name)
	}
	require.Contains(t, names, ".klp.sym.klpkit_oot.klpkit_oot_reads,0", "the module's static counter, resolved in the module")
	require.True(t, slices.ContainsFunc(f.Sections, func(s *elf.Section) bool { return strings.HasPrefix(s.Name, ".klp.rela.klpkit_oot.") }),
		"a klp relocation section for the module")
	return []vmtest.File{{Guest: ootGuestKo, Host: kos[0]}, {Guest: ootGuestFix, Host: res.Module}}
}

// ootGuest loads the out-of-tree module, then its livepatch: the patched
// function runs and counts on in the module's variable; unloaded, the
// module's own code is back.
func ootGuest(t *testing.T) {
	t.Helper()
	require.NoError(t, lab.LoadModule(ootGuestKo))
	read := func() string {
		b, err := os.ReadFile(ootProc)
		require.NoError(t, err)
		return string(b)
	}
	require.Equal(t, "klpkit-oot: original reads=1\n", read())
	name := load(t, ootGuestFix)
	require.DirExists(t, filepath.Join("/sys/kernel/livepatch", name, "klpkit_oot"))
	require.Equal(t, "klpkit-oot: patched reads=2\n", read())
	require.Equal(t, "klpkit-oot: patched reads=3\n", read())
	unload(t, name)
	require.Equal(t, "klpkit-oot: original reads=4\n", read())
	require.NoError(t, lab.UnloadModule(t.Context(), "klpkit_oot"))
	require.NoFileExists(t, ootProc)
}
