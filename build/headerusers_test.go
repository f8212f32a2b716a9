// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// debugTree writes a tiny kernel-like tree, compiles it with -g the way
// kbuild does in-tree (relative names, the tree as compilation directory)
// and cflags ({tree} is the tree) and links the objects into an
// executable: a stand-in vmlinux.
func debugTree(t *testing.T, cflags ...string) (tree, vmlinux string) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc to compile the stand-in kernel")
	}
	tree = t.TempDir()
	files := map[string]string{
		"include/linux/a.h": "struct a { int x; };\nstatic inline int a_get(struct a *p) { return p->x; }\n",
		"fs/b.h":            "#define B_LIMIT 4\n#ifndef __ASSEMBLY__\nstruct b { long y; };\n#endif\n",
		"init/main.c":       "#include \"../include/linux/a.h\"\nint start(struct a *p) { return a_get(p); }\nint _start(void) { return 0; }\n",
		"fs/x.c":            "#include \"../include/linux/a.h\"\n#include \"b.h\"\nlong x(struct b *q, struct a *p) { return q->y + a_get(p); }\n",
		"fs/y.c":            "#include \"b.h\"\nint y(void) { return B_LIMIT; }\n",
		"fs/z.S":            "#include \"b.h\"\n.globl z\nz: ret\n",
	}
	for name, body := range files {
		p := filepath.Join(tree, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	var objs []string
	for _, src := range []string{"init/main.c", "fs/x.c", "fs/y.c", "fs/z.S"} {
		obj := src[:len(src)-2] + ".o"
		args := []string{"-g", "-O2", "-c", "-o", obj, src}
		for _, f := range cflags {
			args = append(args, strings.ReplaceAll(f, "{tree}", tree))
		}
		if filepath.Ext(src) == ".S" {
			args = append([]string{"-D__ASSEMBLY__"}, args...)
		}
		cmd := exec.Command(cc, args...)
		cmd.Dir = tree
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		objs = append(objs, obj)
	}
	vmlinux = filepath.Join(tree, "vmlinux")
	cmd := exec.Command(cc, append([]string{"-g", "-nostdlib", "-static", "-o", vmlinux}, objs...)...)
	cmd.Dir = tree
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return tree, vmlinux
}

func TestDebugHeaderUsers(t *testing.T) {
	tree, vmlinux := debugTree(t)
	assert.True(t, hasLineTable(vmlinux))
	users, gaps, err := debugHeaderUsers(tree, "", "x86", []string{vmlinux}, []string{"include/linux/a.h", "fs/b.h", "include/linux/none.h"})
	require.NoError(t, err)
	assert.Empty(t, gaps)
	assert.Equal(t, []string{"fs/x.o", "init/main.o"}, users["include/linux/a.h"])
	// fs/y.c uses only b.h's macro, which the line tables do not record:
	// its #include line counts. Assembly units are never patch targets.
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, users["fs/b.h"])
	assert.Empty(t, users["include/linux/none.h"])

	// A relocatable object (a module's .ko.debug is one) reads the same.
	reloc := filepath.Join(tree, "fs/x.o")
	assert.True(t, hasLineTable(reloc))
	users, gaps, err = debugHeaderUsers(tree, "", "x86", []string{vmlinux, reloc}, []string{"fs/b.h"})
	require.NoError(t, err)
	assert.Empty(t, gaps)
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, users["fs/b.h"], "a unit seen twice counts once")

	// A source missing from the tree (built elsewhere) is not a target.
	require.NoError(t, os.Remove(filepath.Join(tree, "fs/x.c")))
	users, gaps, err = debugHeaderUsers(tree, "", "x86", []string{vmlinux}, []string{"include/linux/a.h"})
	require.NoError(t, err)
	assert.Empty(t, gaps)
	assert.Equal(t, []string{"init/main.o"}, users["include/linux/a.h"])

	_, _, err = debugHeaderUsers(tree, "", "x86", []string{filepath.Join(tree, "fs/b.h")}, []string{"fs/b.h"})
	require.Error(t, err, "not an ELF file")
	assert.False(t, hasLineTable(filepath.Join(tree, "fs/b.h")))
}

func TestHeaderUsersLimit(t *testing.T) {
	for _, c := range []struct {
		users, max int
		refused    bool
	}{{100, 100, false}, {101, 100, true}, {5000, -1, false}, {1, 0, true}} {
		err := checkHeaderUsers("include/linux/sched.h", c.users, c.max)
		if !c.refused {
			assert.NoError(t, err, "%d users, max %d", c.users, c.max)
			continue
		}
		require.ErrorIs(t, err, ErrUnsupportedPatch)
		var he *HeaderUsersError
		require.True(t, errors.As(err, &he))
		assert.Equal(t, HeaderUsersError{Header: "include/linux/sched.h", Users: c.users, Max: c.max}, *he)
	}
	assert.Equal(t, DefaultMaxHeaderUsers, (&Options{}).maxHeaderUsers())
	assert.Equal(t, -1, (&Options{MaxHeaderUsers: -1}).maxHeaderUsers())
	err := checkHeaderUsers("include/linux/sched.h", 812, 100)
	assert.Contains(t, err.Error(), "header include/linux/sched.h is included by 812 translation units, more than the 100")
	assert.Contains(t, err.Error(), "out-of-line function in one .c file")
}

// A kernel built with its tree mapped to "." in debug information
// (-fdebug-prefix-map, as reproducible builds do) names its units
// relative to the tree: they count as the tree's.
func TestDebugHeaderUsersPrefixMapped(t *testing.T) {
	tree, vmlinux := debugTree(t, "-fdebug-prefix-map={tree}=.")
	users, gaps, err := debugHeaderUsers(tree, "", "x86", []string{vmlinux}, []string{"include/linux/a.h", "fs/b.h"})
	require.NoError(t, err)
	assert.Empty(t, gaps)
	assert.Equal(t, []string{"fs/x.o", "init/main.o"}, users["include/linux/a.h"])
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, users["fs/b.h"])
}

// Debian maps its tree to a relative object directory
// (debian/build/build_amd64_none_amd64): every name and the compilation
// directory start with it, and the units are the tree's once it is cut.
func TestDebugHeaderUsersRelativeObjectDir(t *testing.T) {
	tree, vmlinux := debugTree(t, "-fdebug-prefix-map={tree}=debian/build/amd64")
	users, gaps, err := debugHeaderUsers(tree, "", "x86", []string{vmlinux}, []string{"include/linux/a.h", "fs/b.h"})
	require.NoError(t, err)
	assert.Empty(t, gaps)
	assert.Equal(t, []string{"fs/x.o", "init/main.o"}, users["include/linux/a.h"])
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, users["fs/b.h"])
}

// An #include line the scan cannot follow, in a file a unit outside the
// users reaches, makes the set incomplete: the build is refused with the
// line (or the kbuild records decide), never given the smaller set.
func TestHeadersFromDebugInfoIncludeGap(t *testing.T) {
	tree, vmlinux := debugTree(t)
	f, err := os.OpenFile(filepath.Join(tree, "fs/b.h"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("#ifdef NEVER\n#include NOT_DEFINED_ANYWHERE\n#endif\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	tr := Tree{Release: "6.1.0-test", Dir: tree, Vmlinux: vmlinux}
	r := &runner{opts: Options{Source: &tr}, tree: tr, log: discardLogger(), config: kconfig{"CONFIG_X86": "y"}}

	_, _, err = r.headersFromDebugInfo(context.Background(), []string{"include/linux/a.h"})
	require.ErrorIs(t, err, ErrTreeNotBuilt)
	assert.Contains(t, err.Error(), "fs/b.h:6: #include NOT_DEFINED_ANYWHERE")
	assert.Contains(t, err.Error(), "reached from fs/y.c")

	// fs/b.h's users are every unit that reaches the line: complete.
	rest, objs, err := r.headersFromDebugInfo(context.Background(), []string{"fs/b.h"})
	require.NoError(t, err)
	assert.Empty(t, rest)
	assert.Equal(t, []string{"fs/x.o", "fs/y.o"}, objs)
}
