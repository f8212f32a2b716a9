// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// debugDirSource is a Tree whose ModuleDebugDir is a given directory (a
// distribution's debuginfo package).
type debugDirSource struct {
	tree *Tree
	dir  string
}

func (s debugDirSource) Tree(context.Context) (*Tree, error) { return s.tree, nil }

func (s debugDirSource) Capabilities() Capabilities {
	return Capabilities{ModuleDebugDir: s.ModuleDebugDir}
}

func (s debugDirSource) ModuleDebugDir(context.Context) (string, error) { return s.dir, nil }

// The module debug information is complete only against the modules the
// kernel has (a kernel-wide modules.order, Module.symvers, the module
// files seen), never against the module files that happen to be present.
func TestModuleDebugInfo(t *testing.T) {
	tree, _ := debugTree(t)
	withLines, err := os.ReadFile(filepath.Join(tree, "fs/x.o"))
	require.NoError(t, err)
	const release = "6.1.0-test"
	type files map[string]string // relative path -> "lines", "stripped" or contents
	for _, c := range []struct {
		name    string
		modules files // under Tree.ModulesDir ("" for none)
		debug   files // under the Source's ModuleDebugDir (nil for none)
		tree    files // under Tree.Dir
		symvers string
		want    int      // module files returned when complete
		gap     []string // substrings of the reason when not
	}{
		{name: "one module, no list of the kernel's",
			modules: files{"binfmt_misc.ko": "lines"},
			gap:     []string{"no modules.order", "1 module file(s) with line tables", "may be only some of them"}},
		{name: "an external module build's list",
			modules: files{"binfmt_misc.ko": "lines", "modules.order": "/tmp/ext/binfmt_misc.ko\n"},
			gap:     []string{"no modules.order"}},
		{name: "modules.order names a module without debug information",
			modules: files{"kernel/fs/a.ko": "lines", "modules.order": "kernel/fs/a.ko\nkernel/fs/xfs/xfs.ko\n"},
			gap:     []string{"1 of the kernel's modules", "xfs (from ", "modules.order)"}},
		{name: "every module of modules.order covered",
			modules: files{"kernel/fs/a.ko": "lines", "debug/kernel/fs/xfs/xfs.ko.debug": "lines", "modules.order": "kernel/fs/a.ko\nkernel/fs/xfs/xfs.ko\n"},
			want:    2},
		{name: "modules.order under <release>/, 6.2's .o names",
			modules: files{release + "/kernel/fs/a-b.ko": "lines", release + "/modules.order": "fs/a-b.o\n"},
			want:    1},
		{name: "the tree's modules.order",
			modules: files{"a.ko": "lines"}, tree: files{"modules.order": "fs/a.ko\nfs/c.ko\n"},
			gap: []string{"c (from "}},
		{name: "a stripped module beside",
			modules: files{"kernel/fs/a.ko": "lines", "kernel/fs/b.ko": "stripped", "modules.order": "kernel/fs/a.ko\n"},
			gap:     []string{"b (from ", "b.ko)"}},
		{name: "Module.symvers names an exporting module not covered",
			modules: files{"kernel/fs/a.ko": "lines", "modules.order": "kernel/fs/a.ko\n"},
			symvers: "0x1\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tbar\tdrivers/md/dm-mod\tEXPORT_SYMBOL_GPL\t\n",
			gap:     []string{"dm_mod (from ", "Module.symvers)"}},
		{name: "a debuginfo package, checked against Module.symvers",
			debug:   files{"kernel/drivers/md/dm-mod.ko.debug": "lines", "kernel/fs/a.ko.debug": "lines"},
			symvers: "0x2\tbar\tdrivers/md/dm-mod\tEXPORT_SYMBOL_GPL\t\n",
			want:    2},
		{name: "a debuginfo package missing an exporting module",
			debug:   files{"kernel/fs/a.ko.debug": "lines"},
			symvers: "0x2\tbar\tdrivers/md/dm-mod\tEXPORT_SYMBOL_GPL\t\n",
			gap:     []string{"dm_mod"}},
		{name: "a debuginfo package without module files",
			debug: files{},
			gap:   []string{"no module file with a line table"}},
		{name: "a partial modules directory completed by the debuginfo package",
			modules: files{"kernel/fs/a.ko": "stripped"},
			debug:   files{"kernel/fs/a.ko.debug": "lines", "kernel/fs/b.ko.debug": "lines"},
			want:    2},
	} {
		t.Run(c.name, func(t *testing.T) {
			write := func(dir string, fs files) {
				for name, body := range fs {
					data := []byte(body)
					switch body {
					case "lines":
						data = withLines
					case "stripped":
						data = []byte("\x7fELF stripped")
					}
					p := filepath.Join(dir, filepath.FromSlash(name))
					require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
					require.NoError(t, os.WriteFile(p, data, 0o644))
				}
			}
			tr := Tree{Release: release, Dir: t.TempDir(), ModuleSymvers: filepath.Join(t.TempDir(), "Module.symvers")}
			write(tr.Dir, c.tree)
			if c.modules != nil {
				tr.ModulesDir = t.TempDir()
				write(tr.ModulesDir, c.modules)
			}
			if c.symvers != "" {
				require.NoError(t, os.WriteFile(tr.ModuleSymvers, []byte(c.symvers), 0o644))
			}
			var src Source = &tr
			if c.debug != nil {
				dir := t.TempDir()
				write(dir, c.debug)
				src = debugDirSource{tree: &tr, dir: dir}
			}
			r := &runner{opts: Options{Source: src}, tree: tr, log: discardLogger()}
			got, gap, err := r.moduleDebugInfo(context.Background())
			require.NoError(t, err)
			if c.gap == nil {
				assert.Empty(t, gap)
				assert.Len(t, got, c.want)
				return
			}
			assert.Empty(t, got)
			for _, s := range c.gap {
				assert.Contains(t, gap, s)
			}
		})
	}
}

// A header change in a kernel whose modules' debug information is partial
// is refused with the reason, unless partial users are accepted (then the
// kbuild records decide, with a warning) or the source builds in full.
func TestHeadersFromDebugInfoPartialModules(t *testing.T) {
	tree, vmlinux := debugTree(t)
	mods := t.TempDir()
	x, err := os.ReadFile(filepath.Join(tree, "fs/x.o"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mods, "binfmt_misc.ko"), x, 0o644))
	tr := Tree{Release: "6.1.0-test", Dir: tree, Vmlinux: vmlinux, ModulesDir: mods, ModuleSymvers: filepath.Join(tree, "Module.symvers")}
	changed := []string{"fs/b.h", "fs/y.c"}
	newRunner := func(src Source, partial bool) *runner {
		return &runner{opts: Options{Source: src, PartialHeaderUsers: partial}, tree: tr, log: discardLogger(),
			config: kconfig{"CONFIG_X86": "y", "CONFIG_MODULES": "y", "CONFIG_BINFMT_MISC": "m"}}
	}

	_, _, err = newRunner(&tr, false).headersFromDebugInfo(context.Background(), changed)
	require.ErrorIs(t, err, ErrTreeNotBuilt)
	for _, s := range []string{"fs/b.h changed", "no modules.order", mods, "Tree.ModulesDir", "make vmlinux modules", "PartialHeaderUsers"} {
		assert.Contains(t, err.Error(), s)
	}

	r := newRunner(&tr, true)
	rest, objs, err := r.headersFromDebugInfo(context.Background(), changed)
	require.NoError(t, err)
	assert.Equal(t, changed, rest, "the kbuild records decide")
	assert.Empty(t, objs)
	require.Len(t, r.res.Warnings, 1)
	assert.Contains(t, r.res.Warnings[0], "cannot name every user")

	rest, objs, err = newRunner(&fullBuildTree{tree: &tr}, false).headersFromDebugInfo(context.Background(), changed)
	require.NoError(t, err)
	assert.Equal(t, changed, rest, "the full build's records decide")
	assert.Empty(t, objs)

	// With the kernel's list of modules, all covered, the debug
	// information decides.
	require.NoError(t, os.WriteFile(filepath.Join(mods, "modules.order"), []byte("fs/binfmt_misc.ko\n"), 0o644))
	rest, objs, err = newRunner(&tr, false).headersFromDebugInfo(context.Background(), changed)
	require.NoError(t, err)
	assert.Equal(t, []string{"fs/y.c"}, rest)
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, objs)
}
