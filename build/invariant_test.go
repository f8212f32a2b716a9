// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/needtest"
)

// invariantRunner lays out a tree (the units' original sources) and an
// overlay (their patched sources), compiles both sides with line tables
// as Run does (the patched side from the overlay, its paths mapped back
// to the tree), and diffs them: the changed-line check then sees what it
// sees in a real build. A unit named *.h is a header the others include
// (as "fs/x.h"), changed by the patch but not compiled itself.
func invariantRunner(t *testing.T, sysmap string, exports symvers, units ...crossUnit) *runner {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		needtest.Missing(t, "needs gcc")
	}
	tree, ov, work := t.TempDir(), t.TempDir(), t.TempDir()
	sm := filepath.Join(work, "System.map")
	require.NoError(t, os.WriteFile(sm, []byte(sysmap), 0o644))
	sv := symvers{"printk": "vmlinux", "__fentry__": "vmlinux"}
	for k, v := range exports {
		sv[k] = v
	}
	r := &runner{work: work, tree: Tree{Release: "6.1.0-56-amd64", Dir: tree, SystemMap: sm},
		ov: &overlay{tree: tree, dir: ov, files: map[string]bool{}}, symvers: sv, log: discardLogger()}
	r.version, r.versionKnown = targetVersion(&r.tree)
	compile := func(src, out string, extra ...string) {
		args := append([]string{"-O2", "-g", "-pg", "-mfentry", "-mrecord-mcount", "-fno-PIE", "-ffunction-sections", "-fdata-sections"}, extra...)
		cmd := exec.Command("gcc", append(args, "-I.", "-c", "-o", out, src)...)
		cmd.Dir = tree
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
	}
	for _, cu := range units {
		if strings.HasSuffix(cu.obj, ".h") {
			writeFile(t, filepath.Join(tree, cu.obj), cu.orig)
			writeFile(t, filepath.Join(ov, cu.obj), cu.patched)
			r.ov.changed = append(r.ov.changed, cu.obj)
		}
	}
	for _, cu := range units {
		if strings.HasSuffix(cu.obj, ".h") {
			continue
		}
		src := strings.TrimSuffix(cu.obj, ".o") + ".c"
		writeFile(t, filepath.Join(tree, src), cu.orig)
		writeFile(t, filepath.Join(ov, src), cu.patched)
		if cu.orig != cu.patched {
			r.ov.changed = append(r.ov.changed, src)
		}
		u := &unit{obj: cu.obj, target: cu.target,
			orig: filepath.Join(work, "orig", cu.obj), patched: filepath.Join(work, "patched", cu.obj)}
		require.NoError(t, os.MkdirAll(filepath.Dir(u.orig), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Dir(u.patched), 0o755))
		compile(src, u.orig)
		compile(filepath.Join(ov, src), u.patched, "-I"+ov, "-fdebug-prefix-map="+ov+"/=")
		r.objs = append(r.objs, u)
	}
	require.NoError(t, r.diff(context.Background()))
	return r
}

// checkLines does what link does up to the changed-line check: it
// prepares every patch object, gathers the module's functions, lets drop
// take some away (what a correlation error would do) and runs the check.
func checkLines(t *testing.T, r *runner, drop ...string) (int, error) {
	t.Helper()
	m := &klp.Module{Name: "test"}
	for i, u := range r.objs {
		funcs, cbs, _, err := r.preparePatchObject(i, u)
		if err != nil {
			return 0, err
		}
		u.redirects = map[string]bool{}
		var kept []klp.Func
		for _, f := range funcs {
			if !containsString(drop, f.OldName) {
				u.redirects[f.OldName] = true
				kept = append(kept, f)
			}
		}
		m.Objects = append(m.Objects, klp.Object{Name: u.target, Funcs: kept, Callbacks: cbs})
	}
	return r.checkChangedLinesPatched(m)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A hunk that only deletes a line of a function body adds no line: the
// check maps the deletion to the function that held it in the original
// object and requires that function be redirected.
func TestChangedLinesDeletion(t *testing.T) {
	fixture := crossUnit{obj: "fs/del.o", target: "vmlinux",
		orig: `int printk(const char *, ...);
int del_check(int x)
{
	if (x > 3)
		printk("big %d\n", x);
	return printk("%d\n", x);
}
`,
		patched: `int printk(const char *, ...);
int del_check(int x)
{
	return printk("%d\n", x);
}
`}
	r := invariantRunner(t, "ffffffff81000000 T del_check\nffffffff81000400 T printk\n", nil, fixture)
	require.Equal(t, []string{"del_check"}, r.res.Objects[0].Changed)

	checked, err := checkLines(t, r)
	require.NoError(t, err)
	assert.Equal(t, 1, checked, "del_check held the deleted lines")

	// Were the differ to leave it out, the deleted lines would keep running.
	_, err = checkLines(t, r, "del_check")
	require.ErrorIs(t, err, ErrChangeNotPatched)
	var np *NotPatchedError
	require.ErrorAs(t, err, &np)
	assert.Equal(t, "fs/del.o", np.Object)
	assert.Equal(t, "del_check", np.Function)
	assert.Equal(t, "fs/del.c", np.File)
	assert.True(t, np.Deleted)
	assert.Contains(t, []int{4, 5}, np.Line, "a line of the deleted if")
	assert.Contains(t, np.Reason, "does not redirect")
	assert.Contains(t, err.Error(), "code of deleted line fs/del.c:")
}

// A new global function whose name the running kernel already has as a
// global replaces nothing: callers outside the patch keep the running
// copy. It is refused even when redirected code of its own object calls
// it, and when another patch object reaches it through an export (a
// reference the module link binds to the new copy).
func TestChangedLinesShadowedGlobal(t *testing.T) {
	definer := crossUnit{obj: "fs/a.o", target: "vmlinux",
		orig: `int printk(const char *, ...);
int changed_global(int x) { return printk("%d\n", x); }
`,
		patched: `int printk(const char *, ...);
int moved_fn(int x)
{
	return printk("moved %d\n", x);
}
int changed_global(int x) { return printk("%d!\n", x) + moved_fn(x); }
`}
	caller := crossUnit{obj: "fs/b.o", target: "vmlinux",
		orig: `int printk(const char *, ...);
int moved_fn(int);
int b(int x) { return printk("b %d\n", x); }
`,
		patched: `int printk(const char *, ...);
int moved_fn(int);
int b(int x) { return printk("b %d\n", x) + moved_fn(x); }
`}
	const sysmap = "ffffffff81000000 T changed_global\nffffffff81000100 T b\nffffffff81000300 T moved_fn\nffffffff81000400 T printk\n"
	for _, c := range []struct {
		name    string
		sysmap  string
		exports symvers
		units   []crossUnit
	}{
		{"called from its own object", sysmap, nil, []crossUnit{definer}},
		{"weak in the kernel", strings.Replace(sysmap, "T moved_fn", "W moved_fn", 1), nil, []crossUnit{definer}},
		{"exported, called from another patch object", sysmap, symvers{"moved_fn": "vmlinux"}, []crossUnit{definer, caller}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := invariantRunner(t, c.sysmap, c.exports, c.units...)
			_, err := checkLines(t, r)
			require.ErrorIs(t, err, ErrChangeNotPatched)
			var np *NotPatchedError
			require.ErrorAs(t, err, &np)
			assert.Equal(t, "fs/a.o", np.Object)
			assert.Equal(t, "moved_fn", np.Function)
			assert.Contains(t, np.Reason, "already has a global moved_fn (in vmlinux)")
		})
	}
	t.Run("not in the kernel", func(t *testing.T) {
		r := invariantRunner(t, strings.Replace(sysmap, "ffffffff81000300 T moved_fn\n", "", 1), nil, definer, caller)
		checked, err := checkLines(t, r)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, checked, 2)
	})
}

// A header's changed lines are checked in every unit that includes it:
// here a hunk in an inline function, which two units inline and a third
// includes without using. Each caller that carries the inlined code must
// be redirected, whether the hunk adds a line or only deletes one; the
// unit without code of it changes nothing and is not asked to.
func TestChangedLinesHeader(t *testing.T) {
	const orig = `int printk(const char *, ...);
static inline int h_inline(int x)
{
	if (x > 3)
		printk("big %d\n", x);
	return x * 2;
}
`
	user := func(obj, fn string) crossUnit {
		src := "#include \"fs/h.h\"\nint " + fn + "(int x) { return printk(\"%d\\n\", h_inline(x)); }\n"
		return crossUnit{obj: obj, target: "vmlinux", orig: src, patched: src}
	}
	bystander := "#include \"fs/h.h\"\nint printk(const char *, ...);\nint other(int x) { return printk(\"%d\\n\", x); }\n"
	sysmap := "ffffffff81000000 T use_one\nffffffff81000100 T use_two\nffffffff81000200 T other\nffffffff81000400 T printk\n"
	for _, c := range []struct {
		name, patched string
		deleted       bool
	}{
		{"added line", strings.Replace(orig, "\treturn x * 2;", "\tx += 7;\n\treturn x * 2;", 1), false},
		{"deletion only", strings.Replace(orig, "\tif (x > 3)\n\t\tprintk(\"big %d\\n\", x);\n", "", 1), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NotEqual(t, orig, c.patched)
			units := []crossUnit{{obj: "fs/h.h", orig: orig, patched: c.patched}, user("fs/u1.o", "use_one"), user("fs/u2.o", "use_two"),
				{obj: "fs/u3.o", target: "vmlinux", orig: bystander, patched: bystander}}
			r := invariantRunner(t, sysmap, nil, units...)
			require.Len(t, r.objs, 2, "fs/u3.o does not change")
			checked, err := checkLines(t, r)
			require.NoError(t, err)
			assert.Equal(t, 2, checked, "use_one and use_two hold the changed lines")

			for _, d := range []struct{ drop, obj string }{{"use_one", "fs/u1.o"}, {"use_two", "fs/u2.o"}} {
				_, err := checkLines(t, r, d.drop)
				require.ErrorIs(t, err, ErrChangeNotPatched)
				var np *NotPatchedError
				require.ErrorAs(t, err, &np)
				assert.Equal(t, d.obj, np.Object)
				assert.Equal(t, d.drop, np.Function)
				assert.Equal(t, "fs/h.h", np.File)
				assert.Equal(t, c.deleted, np.Deleted)
			}
		})
	}
}
