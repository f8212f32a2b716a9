// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"debug/elf"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
)

// crossDependsCases are patched module code calling libcrc32c's export
// crc32c: a klp relocation of the patched module either way; a warning
// only where the module does not already depend on libcrc32c.
var crossDependsCases = []struct {
	patch, object, target, function string
	warns                           bool
}{
	{"pcspkr-cross-module-call.patch", "drivers/input/misc/pcspkr.o", "pcspkr", "pcspkr_event", true},
	{"xfs-cross-module-call.patch", "fs/xfs/xfs_stats.o", "xfs", "xfs_stats_format", false},
}

// TestCrossModuleDependsLab proves the cross-module dependency warning on
// real builds against each lab kernel's own modules (the lab's copies of
// pcspkr, xfs and libcrc32c; their .modinfo says xfs depends on
// libcrc32c, pcspkr on nothing): the livepatch core writes the relocation
// when the patched module loads, which works only if libcrc32c is loaded
// before it, so the build warns for pcspkr and not for xfs. Builds only,
// no VM: the warning is a build-time matter.
func TestCrossModuleDependsLab(t *testing.T) {
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		for _, c := range crossDependsCases {
			t.Run(c.target, func(t *testing.T) {
				tree := labTree(t, l)
				tree.ModulesDir = l.ModulesDir // the patched module's depends=
				res, err := build.Run(t.Context(), build.Options{
					Source: tree, Patches: []string{labPatch(l, c.patch)}, OutputDir: t.TempDir(),
					Toolchain: labToolchain(l),
					Progress:  klpkit.On(func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) }),
				})
				require.NoError(t, err, "%s must build", c.patch)
				t.Logf("warnings: %q", res.Warnings)
				require.Equal(t, []build.Object{{Path: c.object, Target: c.target, Changed: []string{c.function}}}, res.Objects)
				requireKlpReference(t, res.Module, c.target, ".klp.sym.libcrc32c.crc32c,0")
				if l.Generation == lab.Bullseye510 {
					requireGCC10(t, l, res.Module)
				}

				want := "the patch calls libcrc32c's export crc32c, which module " + c.target + " ("
				var got []string
				for _, w := range res.Warnings {
					if strings.Contains(w, "libcrc32c") {
						got = append(got, w)
					}
				}
				if !c.warns {
					require.Empty(t, got, "%s already depends on libcrc32c", c.target)
					return
				}
				require.Len(t, got, 1)
				require.True(t, strings.HasPrefix(got[0], c.object+": "), "the warning names the object: %q", got[0])
				require.Contains(t, got[0], want)
				require.Contains(t, got[0], "while the livepatch is applied, "+c.target+" loads only if libcrc32c is loaded first")
			})
		}
	})
}

// requireKlpReference checks that module ko resolves symbol through a klp
// relocation section of target (.klp.rela.<target>.<section>), written
// when target loads, not through a normal relocation, which would make the
// livepatch module itself depend on the exporter.
func requireKlpReference(t *testing.T, ko, target, symbol string) {
	t.Helper()
	f, err := elf.Open(ko)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	index := -1
	for i, s := range syms {
		if s.Name == symbol {
			index = i + 1 // Symbols omits the null symbol
		}
	}
	require.NotEqual(t, -1, index, "%s has no symbol %s", ko, symbol)
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA {
			continue
		}
		data, err := s.Data()
		require.NoError(t, err)
		for off := 0; off+24 <= len(data); off += 24 {
			info := f.ByteOrder.Uint64(data[off+8:])
			if int(elf.R_SYM64(info)) == index {
				require.True(t, strings.HasPrefix(s.Name, ".klp.rela."+target+"."), "%s: %s is relocated in %s", ko, symbol, s.Name)
				return
			}
		}
	}
	t.Fatalf("%s: no relocation against %s", ko, symbol)
}
