// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
)

// crossUnit is one translation unit of a cross-object build: its source
// before and after the patch.
type crossUnit struct {
	obj, target   string
	orig, patched string
}

// The defining object: a changed global (changed_global), a new global
// function and variable (new_helper, shared_count), and a new global with
// the name of a vmlinux global elsewhere (moved_fn), which nothing of
// crossCaller refers to (see TestCrossObjectShadowedGlobal).
var crossDefiner = crossUnit{obj: "fs/a.o", target: "vmlinux",
	orig: `int printk(const char *, ...);
int changed_global(int x) { return printk("%d\n", x); }
`,
	patched: `int printk(const char *, ...);
int changed_global(int x) { return printk("%d!\n", x); }
int shared_count;
int new_helper(int x) { return printk("new %d\n", x + shared_count); }
int moved_fn(int x) { return printk("moved %d\n", x); }
`}

// The caller in vmlinux uses the first three.
var crossCaller = crossUnit{obj: "fs/b.o", target: "vmlinux",
	orig: `int printk(const char *, ...);
int changed_global(int);
int b(int x) { return changed_global(x) + printk("b %d\n", x); }
`,
	patched: `int printk(const char *, ...);
int changed_global(int);
int new_helper(int);
extern int shared_count;
int b(int x) { shared_count++; return changed_global(x) + new_helper(x); }
`}

// A caller in module mymod.
var crossModuleCaller = crossUnit{obj: "drivers/m/c.o", target: "mymod",
	orig: `int printk(const char *, ...);
int c(int x) { return printk("c %d\n", x); }
`,
	patched: `int printk(const char *, ...);
int new_helper(int);
int c(int x) { return new_helper(x) + printk("c %d\n", x); }
`}

// crossSystemMap: vmlinux has a static named new_helper in another file
// (which a global reference must not bind to) and a global moved_fn.
const crossSystemMap = `ffffffff81000000 T changed_global
ffffffff81000100 T b
ffffffff81000200 t new_helper
ffffffff81000300 T moved_fn
ffffffff81000400 T printk
`

// crossRunner compiles and diffs the units as one build.
func crossRunner(t *testing.T, units ...crossUnit) *runner {
	t.Helper()
	dir := t.TempDir()
	sysmap := filepath.Join(dir, "System.map")
	require.NoError(t, os.WriteFile(sysmap, []byte(crossSystemMap), 0o644))
	r := &runner{work: t.TempDir(), tree: Tree{Release: "6.1.0-56-amd64", SystemMap: sysmap},
		symvers: symvers{"printk": "vmlinux", "__fentry__": "vmlinux"}, log: discardLogger()}
	r.version, r.versionKnown = targetVersion(&r.tree)
	for _, cu := range units {
		u := &unit{obj: cu.obj, target: cu.target,
			orig: filepath.Join(dir, filepath.Base(cu.obj)+".orig"), patched: filepath.Join(dir, filepath.Base(cu.obj)+".patched")}
		compileKernelStyle(t, cu.orig, u.orig)
		compileKernelStyle(t, cu.patched, u.patched)
		r.objs = append(r.objs, u)
	}
	require.NoError(t, r.diff(context.Background()))
	require.Len(t, r.objs, len(units), "every unit changed")
	return r
}

// undefinedNames returns the undefined symbols of an ELF object.
func undefinedNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF && s.Name != "" {
			out[s.Name] = true
		}
	}
	return out
}

// TestCrossObjectGlobals: a reference to a global that another patch
// object of the build defines stays a normal relocation the module link
// resolves, from vmlinux and from a module; a changed global function is
// called through its original, which the livepatch core redirects.
func TestCrossObjectGlobals(t *testing.T) {
	r := crossRunner(t, crossDefiner, crossCaller, crossModuleCaller)
	r.tree.ModulesDir = moduleDir(t, "mymod", crossModuleCaller.orig)
	var paths []string
	for i, u := range r.objs {
		_, _, path, err := r.preparePatchObject(i, u)
		require.NoError(t, err, u.obj)
		paths = append(paths, path)
	}

	b := undefinedNames(t, paths[1])
	for _, tc := range []struct {
		name      string
		undefined bool // left for the module link
		klp       string
	}{
		{"new_helper", true, ""},   // not the static of the same name in vmlinux
		{"shared_count", true, ""}, // a new global variable
		{"changed_global", false, klp.KlpSymbolName("vmlinux", "changed_global", 0)},
	} {
		assert.Equal(t, tc.undefined, b[tc.name], "fs/b.o references %s by name", tc.name)
		if tc.klp != "" {
			assert.True(t, b[tc.klp], "fs/b.o references %s", tc.klp)
		}
	}
	assert.True(t, undefinedNames(t, paths[2])["new_helper"], "the module's object references new_helper by name")
	for _, w := range r.res.Warnings {
		assert.NotContains(t, w, "assumed in module mymod", "new_helper is found in the build, not assumed")
	}

	// Linked as kbuild links the module's objects, the references resolve
	// to fs/a.o's definitions and nothing but klp and exported names
	// stays undefined.
	ld, err := exec.LookPath("ld")
	if err != nil {
		t.Skip("needs ld to link the patch objects")
	}
	linked := filepath.Join(t.TempDir(), "linked.o")
	out, err := exec.Command(ld, append([]string{"-r", "-o", linked}, paths...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for name := range undefinedNames(t, linked) {
		assert.True(t, strings.HasPrefix(name, ".klp.sym.vmlinux.") || name == "printk" || name == "__fentry__", "undefined after the link: %s", name)
	}
}

// TestCrossObjectDuplicateGlobal: a new global defined by two patch
// objects is refused before the link, naming both objects, also when they
// belong to different targets.
func TestCrossObjectDuplicateGlobal(t *testing.T) {
	second := crossUnit{obj: "drivers/m/d.o", target: "mymod",
		orig:    "int printk(const char *, ...);\nint d(int x) { return printk(\"d %d\\n\", x); }\n",
		patched: "int printk(const char *, ...);\nint d(int x) { return printk(\"d %d\\n\", x); }\nint new_helper(int x) { return printk(\"other %d\\n\", x); }\n"}
	r := crossRunner(t, crossDefiner, second)
	err := r.link(context.Background())
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	var oe *ObjectError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "drivers/m/d.o", oe.Object)
	assert.Contains(t, err.Error(), "global symbol new_helper is defined by both fs/a.o (vmlinux) and drivers/m/d.o (mymod)")
	assert.NoDirExists(t, filepath.Join(r.work, "patch"), "no patch object written")
}

// moduleDir returns a modules directory holding name.ko built from src.
func moduleDir(t *testing.T, name, src string) string {
	t.Helper()
	dir := t.TempDir()
	compileKernelStyle(t, src, filepath.Join(dir, name+".ko"))
	return dir
}

// TestCrossObjectShadowedGlobal: a reference to a name another patch
// object defines anew, where the referencing object's target already has
// a global of that name, would bind to the running copy, which every
// other caller keeps using too: the new definition replaces nothing, and
// the build is refused naming both rather than warned about.
func TestCrossObjectShadowedGlobal(t *testing.T) {
	caller := crossUnit{obj: "fs/b.o", target: "vmlinux",
		orig:    "int printk(const char *, ...);\nint b(int x) { return printk(\"b %d\\n\", x); }\n",
		patched: "int printk(const char *, ...);\nint moved_fn(int);\nint b(int x) { return printk(\"b %d\\n\", x) + moved_fn(x); }\n"}
	r := crossRunner(t, crossDefiner, caller)
	_, _, _, err := r.preparePatchObject(1, r.objs[1])
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	assert.ErrorContains(t, err, "fs/b.o refers to moved_fn, which fs/a.o defines anew in the patch module, but vmlinux already has a global moved_fn")
	for _, w := range r.res.Warnings {
		assert.NotContains(t, w, "moved_fn", "refused, not warned about")
	}
}

// TestCrossObjectModuleNotFound: whether a module object's reference to a
// new global of another patch object means that one depends on the
// module's own globals; without the module's .ko the build is refused,
// naming the module and the file, rather than guessed.
func TestCrossObjectModuleNotFound(t *testing.T) {
	for _, modules := range []string{"", "empty"} {
		t.Run("ModulesDir="+modules, func(t *testing.T) {
			r := crossRunner(t, crossDefiner, crossModuleCaller)
			if modules != "" {
				r.tree.ModulesDir = t.TempDir()
			}
			_, _, _, err := r.preparePatchObject(1, r.objs[1])
			require.ErrorIs(t, err, ErrModuleNotFound)
			assert.ErrorContains(t, err, "drivers/m/c.o refers to new_helper, which fs/a.o defines in the patch module")
			assert.ErrorContains(t, err, "mymod.ko (or mymod.ko.debug) is not under the modules directory")
			assert.ErrorContains(t, err, "--modules-dir")
		})
	}
}

// TestCrossObjectTwoModules: between objects of two modules the same
// rule holds, with the referencing module's own symbol table deciding:
// new_helper links to m1's; m2.ko has a global m2_shared, so a new
// m2_shared in the m1 object would replace nothing m2 calls, and is
// refused.
func TestCrossObjectTwoModules(t *testing.T) {
	const definerOrig = "int printk(const char *, ...);\nint a(int x) { return printk(\"a %d\\n\", x); }\n"
	caller := crossUnit{obj: "drivers/m2/b.o", target: "m2",
		orig:    "int printk(const char *, ...);\nint m2_shared(int);\nint b(int x) { return m2_shared(x); }\n",
		patched: "int printk(const char *, ...);\nint m2_shared(int);\nint new_helper(int);\nint b(int x) { return m2_shared(x) + new_helper(x); }\n"}
	modules := moduleDir(t, "m2", caller.orig+"int m2_shared(int x) { return printk(\"m2 %d\\n\", x); }\n")

	definer := crossUnit{obj: "drivers/m1/a.o", target: "m1", orig: definerOrig,
		patched: definerOrig + "int new_helper(int x) { return printk(\"new %d\\n\", x); }\n"}
	r := crossRunner(t, definer, caller)
	r.tree.ModulesDir = modules
	var paths []string
	for i, u := range r.objs {
		_, _, path, err := r.preparePatchObject(i, u)
		require.NoError(t, err, u.obj)
		paths = append(paths, path)
	}
	b := undefinedNames(t, paths[1])
	assert.True(t, b["new_helper"], "new_helper left for the module link")
	assert.True(t, b[klp.KlpSymbolName("m2", "m2_shared", 0)], "m2_shared through m2's symbol table: %v", b)
	assert.False(t, b["m2_shared"])

	definer.patched += "int m2_shared(int x) { return printk(\"m1 %d\\n\", x); }\n"
	r = crossRunner(t, definer, caller)
	r.tree.ModulesDir = modules
	_, _, _, err := r.preparePatchObject(1, r.objs[1])
	require.ErrorIs(t, err, ErrUnsupportedPatch)
	assert.ErrorContains(t, err, "drivers/m2/b.o refers to m2_shared, which drivers/m1/a.o defines anew in the patch module, but m2 already has a global m2_shared")
}
