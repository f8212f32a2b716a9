// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	tree := t.TempDir()
	for name, body := range files {
		p := filepath.Join(tree, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return tree
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestIncludeGraph(t *testing.T) {
	tree := writeTree(t, map[string]string{
		"include/linux/a.h":           "#ifndef A_H\n#define A_H\n#include <linux/b.h>\n#endif\n",
		"include/linux/b.h":           "#include <linux/a.h>\n#include <asm/arch.h>\n",
		"arch/x86/include/asm/arch.h": "#define ARCH 1\n",
		"include/uapi/linux/u.h":      "#define U 1\n",
		"fs/proc/internal.h":          "#include <linux/u.h>\n",
		"fs/proc/base.c":              "#include <linux/a.h>\n  #  include \"internal.h\"\n",
		"fs/proc/cond.c":              "#ifdef CONFIG_X\n#include \"internal.h\"\n#endif\n",
		"fs/other.c":                  "#include \"proc/internal.h\"\n#include TRACE_INCLUDE(x)\n",
		"fs/plain.c":                  "/* nothing */\n",
	})
	g := newIncludeGraph("x86", tree)
	require.NoError(t, g.add([]string{"fs/proc/base.c", "fs/proc/cond.c", "fs/other.c", "fs/plain.c"}))
	assert.ElementsMatch(t, []string{"fs/proc/base.c", "fs/proc/cond.c", "fs/other.c"}, keys(g.reaching("fs/proc/internal.h")),
		"quoted names beside the includer, conditional includes counted")
	assert.ElementsMatch(t, []string{"fs/proc/base.c", "include/linux/a.h", "include/linux/b.h"}, keys(g.reaching("arch/x86/include/asm/arch.h")),
		"through other headers, cycles included, arch directory first")
	assert.ElementsMatch(t, []string{"fs/proc/internal.h", "fs/proc/base.c", "fs/proc/cond.c", "fs/other.c"}, keys(g.reaching("include/uapi/linux/u.h")))
	assert.Empty(t, g.reaching("fs/plain.c"))
	require.Len(t, g.incomplete, 1, "a function-like macro include outside the trace machinery is not followed: %v", g.incomplete)
	assert.Contains(t, g.incomplete["fs/other.c"][0], "fs/other.c:2: #include TRACE_INCLUDE(x)")
}

// What plain #include resolution missed: #include_next, per-directory
// include flags, macro includes, kbuild's forced includes, another
// architecture; and what cannot be followed is said, never dropped.
func TestIncludeGraphKbuild(t *testing.T) {
	tree := writeTree(t, map[string]string{
		// #include_next: the next directory after the includer's.
		"arch/arm64/include/asm/x.h": "#include_next <asm/x.h>\n",
		"include/asm/x.h":            "#define X 1\n",
		"include/linux/next.h":       "#include_next <linux/next.h>\n", // in no later directory
		"include/uapi/linux/next.h":  "#define N 1\n",
		"drivers/n/n.c":              "#include <asm/x.h>\n#include <linux/next.h>\n",
		// Per-directory -I: ccflags-y and subdir-ccflags-y above.
		"drivers/Makefile":             "subdir-ccflags-y += -I $(srctree)/drivers/common/inc\n",
		"drivers/gpu/Makefile":         "GPU_INC = $(srctree)/drivers/gpu/vinc\nccflags-y := -I$(src)/inc \\\n  -DFOO -include $(srctree)/include/linux/forced.h\nobj-y += sub/g2.o\nsubdir-ccflags-y += -I$(GPU_INC)\n",
		"drivers/gpu/vinc/v.h":         "#define V 1\n",
		"drivers/gpu/inc/local.h":      "#include <common.h>\n",
		"drivers/common/inc/common.h":  "#define C 1\n",
		"drivers/gpu/g.c":              "#include <local.h>\n#include <v.h>\n",
		"drivers/gpu/sub/g2.c":         "#include \"local.h\"\n",
		"include/linux/forced.h":       "#define F 1\n",
		"include/linux/kconfig.h":      "#include <generated/autoconf.h>\n",
		"include/generated/autoconf.h": "#define CONFIG_NAME_FILE \"named.h\"\n",
		// Macro includes.
		"drivers/m/named.h":            "#define NAMED 1\n",
		"drivers/m/m.c":                "#include CONFIG_NAME_FILE\n#include CONFIG_UNSET_FILE\n#include \"defs.h\"\n#include FILE_OF_M /* comment */\n",
		"drivers/m/defs.h":             "#define FILE_OF_M <linux/m.h>\n",
		"include/linux/m.h":            "#define M 1\n",
		"include/trace/define_trace.h": "#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n",
		"drivers/t/t.c":                "#include <trace/define_trace.h>\n",
		// What cannot be followed.
		"drivers/u/Makefile":                 "X := a \\\n  b\nccflags-y += -I$(KDIR)/extra\n",
		"drivers/u/u.c":                      "#include <missing.h>\n#include UNDEFINED_MACRO\n#include <stdio.h>\n#include <asm/machdep.h>\n",
		"drivers/x/extra/missing.h":          "#define MISSING 1\n",
		"arch/powerpc/include/asm/machdep.h": "#define PPC 1\n",
		"drivers/u/fine.c":                   "#include <linux/m.h>\n",
		"drivers/v/v.c":                      "#include <missing.h>\n", // no unexpanded flag reaches drivers/v
	})
	g := newIncludeGraph("arm64", tree)
	units := []string{"drivers/n/n.c", "drivers/gpu/g.c", "drivers/gpu/sub/g2.c", "drivers/m/m.c", "drivers/t/t.c", "drivers/u/u.c", "drivers/u/fine.c", "drivers/v/v.c"}
	require.NoError(t, g.add(units))

	assert.ElementsMatch(t, []string{"drivers/n/n.c", "arch/arm64/include/asm/x.h"}, keys(g.reaching("include/asm/x.h")), "#include_next goes on after arch/arm64/include")
	assert.ElementsMatch(t, []string{"drivers/n/n.c", "include/linux/next.h"}, keys(g.reaching("include/uapi/linux/next.h")), "include/linux/next.h's #include_next starts after include/")
	assert.ElementsMatch(t, []string{"drivers/gpu/g.c", "drivers/gpu/sub/g2.c", "drivers/gpu/inc/local.h"}, keys(g.reaching("drivers/common/inc/common.h")),
		"ccflags-y -I$(src)/inc and subdir-ccflags-y from drivers/Makefile; sub/g2.o is built by drivers/gpu/Makefile")
	assert.ElementsMatch(t, []string{"drivers/gpu/g.c", "drivers/gpu/sub/g2.c"}, keys(g.reaching("include/linux/forced.h")), "-include in ccflags-y")
	assert.Contains(t, keys(g.reaching("include/linux/kconfig.h")), "drivers/t/t.c", "kbuild's forced includes reach every unit")
	assert.ElementsMatch(t, []string{"drivers/m/m.c"}, keys(g.reaching("drivers/m/named.h")), "a CONFIG_ string from autoconf.h")
	assert.ElementsMatch(t, []string{"drivers/m/m.c", "drivers/u/fine.c"}, keys(g.reaching("include/linux/m.h")), "a macro defined as a header name")

	var notes []string
	for _, n := range g.incomplete {
		notes = append(notes, n...)
	}
	for _, n := range g.scoped {
		notes = append(notes, n...)
	}
	require.Len(t, notes, 3, "%v", notes)
	all := strings.Join(notes, "\n")
	assert.Contains(t, all, "drivers/u/u.c:1: #include missing.h: in the tree as drivers/x/extra/missing.h, in no include directory the scan knows")
	assert.ElementsMatch(t, []string{"drivers/u/u.c:3: stdio.h", "drivers/u/u.c:4: asm/machdep.h"}, g.outside,
		"names no file of the tree (for this architecture) has are outside it")
	assert.Contains(t, all, "drivers/u/Makefile:3: -I $(KDIR)/extra", "the line of the flag, continuations counted")
	assert.ElementsMatch(t, []string{"drivers/gpu/g.c"}, keys(g.reaching("drivers/gpu/vinc/v.h")), "the Makefile's own variables are expanded")
	assert.Contains(t, all, "drivers/u/u.c:2: #include UNDEFINED_MACRO: macro UNDEFINED_MACRO is defined in no file")
	assert.NotContains(t, all, "CONFIG_UNSET_FILE", "a CONFIG_ macro the configuration does not set is an inactive line")
	assert.NotContains(t, all, "TRACE_INCLUDE", "the trace machinery's re-include")

	isUnit := func(f string) bool { return strings.HasSuffix(f, ".c") }
	gaps := g.gaps(map[string]bool{"drivers/m/m.c": true, "drivers/u/fine.c": true}, isUnit)
	require.Len(t, gaps, 2, "%v", gaps)
	assert.Contains(t, gaps[0], "drivers/u/u.c:1: #include missing.h")
	assert.Contains(t, gaps[0], "(reached from drivers/u/u.c)", "a unit outside the users reaches a line not followed")
	assert.Contains(t, gaps[1], "drivers/u/u.c:2: #include UNDEFINED_MACRO")
	assert.NotContains(t, strings.Join(gaps, "\n"), "drivers/v/v.c", "a name in no known directory counts where an unexpanded flag may reach")
	assert.Empty(t, g.gaps(map[string]bool{"drivers/u/u.c": true}, isUnit), "a unit already a user loses nothing")
}

// A file the scan cannot read is an error, not a file without includes.
func TestIncludeGraphReadError(t *testing.T) {
	tree := writeTree(t, map[string]string{
		"fs/a.c": "#include \"a.h\"\n",
		"fs/a.h": "#define A \"" + strings.Repeat("x", 5<<20) + "\"\n",
	})
	g := newIncludeGraph("x86", tree)
	err := g.add([]string{"fs/a.c"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading fs/a.h for its #include lines")
}

func TestSrcArch(t *testing.T) {
	for cfg, want := range map[string]string{"CONFIG_X86": "x86", "CONFIG_ARM64": "arm64"} {
		got, err := srcArch(kconfig{cfg: "y"})
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := srcArch(kconfig{"CONFIG_MIPS": "y"})
	require.Error(t, err)
}

// FuzzIncludeScan: any source file and Makefile text is read without a
// panic, every #include found names its line.
func FuzzIncludeScan(f *testing.F) {
	f.Add("#include <linux/a.h>\n# include_next \"b.h\" // c\n#define X <y.h>\n#include X\n", "ccflags-y += -I$(src)/inc \\\n -include $(V)\nV := $(V)\n")
	f.Add("#include\n#include <\n#include \"\n#define\n#define (\n", "-I\n-include\n$(\n")
	f.Fuzz(func(t *testing.T, src, makefile string) {
		tree := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(tree, "a.c"), []byte(src), 0o644))
		g := newIncludeGraph("x86", tree)
		for _, d := range g.parse("a.c") {
			require.Positive(t, d.line)
			require.NotEmpty(t, d.name)
		}
		g.parseFlags("Makefile", "d", makefile)
	})
}
