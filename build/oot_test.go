// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/livepatch"
)

// thisModule is a .gnu.linkonce.this_module section's contents naming name.
func thisModule(name string) string {
	b := make([]byte, thisModuleNameOffset+56)
	binary.LittleEndian.PutUint32(b, 1)
	copy(b[thisModuleNameOffset:], name)
	return string(b)
}

func writeOOTFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestModuleNameOf(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, section, data string
		want, err           string
	}{
		{"modinfo", ".modinfo", "license=GPL\x00name=klpkit_oot\x00vermagic=6.1.0 SMP\x00", "klpkit_oot", ""},
		{"modinfo dash", ".modinfo", "name=my-mod\x00", "my_mod", ""},
		{"this_module", ".gnu.linkonce.this_module", thisModule("old_mod"), "old_mod", ""},
		{"no name", ".modinfo", "license=GPL\x00", "", "no module name"},
		{"empty this_module", ".gnu.linkonce.this_module", thisModule(""), "", "no module name"},
		{"garbage this_module name", ".gnu.linkonce.this_module", thisModule("a b"), "", "no module name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeOOTFile(t, filepath.Join(dir, c.name+".ko"), elfWithSection(t, c.section, c.data))
			got, err := moduleNameOf(p)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	_, err := moduleNameOf(writeOOTFile(t, filepath.Join(dir, "text.ko"), []byte("not elf")))
	require.ErrorContains(t, err, "not a kernel module")
}

// FuzzModuleNameOf: the .ko reader never panics on hostile files.
func FuzzModuleNameOf(f *testing.F) {
	f.Add(elfWithSection(f, ".modinfo", "name=x\x00"))
	f.Add(elfWithSection(f, ".gnu.linkonce.this_module", thisModule("y")))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "m.ko")
		require.NoError(t, os.WriteFile(p, data, 0o644))
		if _, err := moduleNameOf(p); errors.Is(err, ErrInternal) {
			t.Fatalf("moduleNameOf crashed: %v", err)
		}
	})
}

func TestNewOOTBuild(t *testing.T) {
	dir := t.TempDir()
	ko := writeOOTFile(t, filepath.Join(dir, "klpkit-oot.ko"), elfWithSection(t, ".modinfo", "name=klpkit_oot\x00"))
	src := filepath.Join(dir, "src")
	writeOOTFile(t, filepath.Join(src, "Kbuild"), []byte("obj-m := klpkit_oot.o\n"))
	mk := filepath.Join(dir, "mk")
	writeOOTFile(t, filepath.Join(mk, "Makefile"), []byte("obj-m := klpkit_oot.o\n"))
	bare := filepath.Join(dir, "bare")
	require.NoError(t, os.MkdirAll(bare, 0o755))
	notKo := writeOOTFile(t, filepath.Join(dir, "x.ko"), []byte("text"))
	for _, c := range []struct {
		name string
		o    OOTModule
		err  string
	}{
		{"both", OOTModule{Module: ko, Source: src}, ""},
		{"makefile", OOTModule{Module: ko, Source: mk}, ""},
		{"neither", OOTModule{}, "needs Module (the built .ko) and Source"},
		{"no module", OOTModule{Source: src}, "out-of-tree module source " + src + ": OOTModule.Module (the built .ko, kpatch-build --oot-module) is required"},
		{"no source", OOTModule{Module: ko}, "out-of-tree module " + ko + ": OOTModule.Source (its source directory, kpatch-build --oot-module-src) is required"},
		{"not a module", OOTModule{Module: notKo, Source: src}, "out-of-tree module " + notKo + ": not a kernel module"},
		{"missing module", OOTModule{Module: filepath.Join(dir, "none.ko"), Source: src}, "none.ko: not a kernel module"},
		{"missing source", OOTModule{Module: ko, Source: filepath.Join(dir, "none")}, "out-of-tree module source: stat " + filepath.Join(dir, "none")},
		{"source is a file", OOTModule{Module: ko, Source: ko}, "out-of-tree module source " + ko + " is not a directory"},
		{"no kbuild file", OOTModule{Module: ko, Source: bare}, "out-of-tree module source " + bare + " has neither a Kbuild file nor a Makefile"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := newOOTBuild(&c.o)
			if c.err != "" {
				require.ErrorIs(t, err, ErrBadOptions)
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "klpkit_oot", b.name, "from .modinfo, not the file name")
			assert.Equal(t, c.o.Module, b.module)
			assert.True(t, filepath.IsAbs(b.src))
		})
	}
}

// Run refuses incomplete out-of-tree options before building anything.
func TestRunOOTBadOptions(t *testing.T) {
	tree := openFakeTree(t, "CONFIG_LIVEPATCH=y\n")
	patch := writePatch(t, "--- a/m.c\n+++ b/m.c\n@@ -1 +1 @@\n-int a;\n+int b;\n")
	out := t.TempDir()
	_, err := Run(t.Context(), Options{
		Source:    &Tree{Release: "6.1.0-1-amd64", Dir: tree},
		Patches:   []string{patch},
		OutputDir: out,
		OOTModule: &OOTModule{Source: t.TempDir()},
	})
	require.ErrorIs(t, err, ErrBadOptions)
	require.ErrorContains(t, err, "OOTModule.Module")
	entries, _ := os.ReadDir(out)
	assert.Empty(t, entries)
}

// A patch that changes the kernel tree is refused for an out-of-tree
// build, naming the patch, the file and both directories; files of the
// module's source, and files neither has (new files), pass.
func TestCheckPatchesOOT(t *testing.T) {
	kernel, src := t.TempDir(), t.TempDir()
	writeOOTFile(t, filepath.Join(kernel, "fs/proc/cmdline.c"), []byte("int a;\n"))
	writeOOTFile(t, filepath.Join(src, "klpkit_oot.c"), []byte("int a;\n"))
	r := &runner{tree: Tree{Dir: kernel}, oot: &ootBuild{src: src, name: "klpkit_oot"}}
	for _, c := range []struct {
		name, patch, err string
	}{
		{"module file", "--- a/klpkit_oot.c\n+++ b/klpkit_oot.c\n@@ -1 +1 @@\n-int a;\n+int b;\n", ""},
		{"new file", "--- /dev/null\n+++ b/helper.c\n@@ -0,0 +1 @@\n+int c;\n", ""},
		{"kernel file", "--- a/klpkit_oot.c\n+++ b/klpkit_oot.c\n@@ -1 +1 @@\n-int a;\n+int b;\n--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1 +1 @@\n-int a;\n+int b;\n",
			"changes fs/proc/cmdline.c, a file of the kernel tree " + kernel + ", not of the out-of-tree module source " + src},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeOOTFile(t, filepath.Join(t.TempDir(), "fix.patch"), []byte(c.patch))
			ps, err := livepatch.ParseFiles([]string{p}, &livepatch.ParseOptions{Tree: src})
			require.NoError(t, err)
			err = r.checkPatchesOOT(ps)
			if c.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBadOptions)
			require.ErrorContains(t, err, "patch "+p+" "+c.err)
		})
	}
}

func TestKbuildModName(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"debian 6.1", "cmd_/w/oot/src/klpkit_oot.o := gcc -DMODULE -DKBUILD_BASENAME='\"klpkit_oot\"' -DKBUILD_MODNAME='\"klpkit_oot\"' -D__KBUILD_MODNAME=kmod_klpkit_oot -c -o x.o x.c\n", "klpkit_oot"},
		{"escaped", "cmd_x.o := gcc -DKBUILD_MODNAME=\\\"my-mod\\\" -c x.c", "my_mod"},
		{"at the end", "cmd_x.o := gcc -DKBUILD_MODNAME='\"m\"'", "m"},
		{"no module", "cmd_x.o := gcc -c -o x.o x.c\n", ""},
	} {
		p := writeOOTFile(t, filepath.Join(dir, c.name+".cmd"), []byte(c.text))
		assert.Equal(t, c.want, kbuildModName(p), c.name)
	}
	assert.Empty(t, kbuildModName(filepath.Join(dir, "missing.cmd")))
}

func TestCopySourceTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, f := range []string{"Kbuild", "m.c", "m.h", "sub/s.c", "m.o", "m.ko", ".m.o.cmd", "m.mod", "m.mod.c", "m.mod.o", "modules.order", "Module.symvers", "sub/s.o", ".git/config", ".tmp_versions/m.mod"} {
		writeOOTFile(t, filepath.Join(src, f), []byte(f))
	}
	require.NoError(t, os.Symlink("m.h", filepath.Join(src, "link.h")))
	require.NoError(t, copySourceTree(src, dst))
	var got []string
	require.NoError(t, filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"Kbuild", "m.c", "m.h", "sub/s.c", "link.h"}, got, "sources and links, no build products")
	target, err := os.Readlink(filepath.Join(dst, "link.h"))
	require.NoError(t, err)
	assert.Equal(t, "m.h", target)
	data, err := os.ReadFile(filepath.Join(dst, "sub/s.c"))
	require.NoError(t, err)
	assert.Equal(t, "sub/s.c", string(data))
}

// The link finds the out-of-tree module's symbols in OOTModule.Module,
// whatever Tree.ModulesDir holds.
func TestFindModuleOOT(t *testing.T) {
	ko := filepath.Join(t.TempDir(), "built.ko")
	r := &runner{oot: &ootBuild{module: ko, name: "klpkit_oot"}}
	assert.Equal(t, ko, r.findModule("klpkit_oot"))
	assert.Empty(t, r.findModule("binfmt_misc"), "other modules: Tree.ModulesDir (unset)")
	assert.Equal(t, []string{filepath.Clean(filepath.Join("/w", "oot", "src"))}, (&runner{oot: &ootBuild{buildDir: "/w/oot/src"}}).objectRoots())
	assert.Equal(t, "/src", (&runner{tree: Tree{Dir: "/k"}, oot: &ootBuild{src: "/src"}}).patchedTree())
	assert.Equal(t, "/k", (&runner{tree: Tree{Dir: "/k"}}).patchedTree())
}

// The translation units kept from a build are the objects beside their .c
// files that kbuild compiled for the module: not modpost's .mod.o, not a
// composite object, not another module's.
func TestKeepOOTObjects(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "oot", "src")
	for f, data := range map[string]string{
		"klpkit_oot.c":      "",
		"klpkit_oot.o":      "tu",
		".klpkit_oot.o.cmd": "cmd := gcc -DKBUILD_MODNAME='\"klpkit_oot\"' -c",
		"klpkit_oot.mod.c":  "",
		"klpkit_oot.mod.o":  "modpost",
		"sub/helper.c":      "",
		"sub/helper.o":      "tu2",
		"composite.o":       "ld -r",
		"other.c":           "",
		"other.o":           "other",
		".other.o.cmd":      "cmd := gcc -DKBUILD_MODNAME='\"other_mod\"' -c",
	} {
		writeOOTFile(t, filepath.Join(dir, f), []byte(data))
	}
	r := &runner{work: work, oot: &ootBuild{name: "klpkit_oot", buildDir: dir}}
	objs, err := r.keepOOTObjects("orig")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"klpkit_oot.o", "sub/helper.o"}, objs)
	data, err := os.ReadFile(filepath.Join(work, "orig", "sub/helper.o"))
	require.NoError(t, err)
	assert.Equal(t, "tu2", string(data))
	assert.NoFileExists(t, filepath.Join(work, "orig", "other.o"))
}

// A source that does not build the module Module names is refused, with
// what it does build.
func TestCheckOOTBuilt(t *testing.T) {
	dir := t.TempDir()
	r := &runner{oot: &ootBuild{name: "klpkit_oot", module: "/lib/modules/x/extra/klpkit_oot.ko", src: "/src", buildDir: dir}}
	err := r.checkOOTBuilt()
	require.ErrorIs(t, err, ErrBadOptions)
	require.ErrorContains(t, err, "out-of-tree module source /src builds no module, not klpkit_oot, the module /lib/modules/x/extra/klpkit_oot.ko")
	writeOOTFile(t, filepath.Join(dir, "other-mod.ko"), nil)
	require.ErrorContains(t, r.checkOOTBuilt(), "builds other_mod, not klpkit_oot")
	writeOOTFile(t, filepath.Join(dir, "klpkit-oot.ko"), nil)
	require.NoError(t, r.checkOOTBuilt(), "names are compared as the kernel spells them")
}

// A patch that changes an export's symbol version in the module's
// Module.symvers is refused; unchanged, added and removed exports pass.
func TestOOTExportsUnchanged(t *testing.T) {
	parse := func(s string) map[string]kernelCRC {
		m, err := parseSymversCRCs([]byte(s))
		require.NoError(t, err)
		return m
	}
	orig := parse("0x11111111\tklpkit_get\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL_GPL\t\n0x22222222\tklpkit_put\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL\t\n")
	require.NoError(t, ootExportsUnchanged("klpkit_oot", orig, orig))
	require.NoError(t, ootExportsUnchanged("klpkit_oot", nil, nil), "no Module.symvers")
	require.NoError(t, ootExportsUnchanged("klpkit_oot", orig,
		parse("0x11111111\tklpkit_get\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL_GPL\t\n0x33333333\tklpkit_new\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL\t\n")))
	err := ootExportsUnchanged("klpkit_oot", orig,
		parse("0x11111111\tklpkit_get\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL_GPL\t\n0x44444444\tklpkit_put\t/w/oot/src/klpkit_oot\tEXPORT_SYMBOL\t\n"))
	var ev *ExportVersionError
	require.ErrorAs(t, err, &ev)
	assert.Equal(t, &ExportVersionError{Object: "klpkit_oot.ko", Changes: []CRCChange{{Symbol: "klpkit_put", Old: 0x22222222, New: 0x44444444}}}, ev)
	require.ErrorIs(t, err, ErrUnsupportedPatch)
}
