// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIncludeGraph(t *testing.T) {
	tree := t.TempDir()
	for name, body := range map[string]string{
		"include/linux/a.h":           "#ifndef A_H\n#define A_H\n#include <linux/b.h>\n#endif\n",
		"include/linux/b.h":           "#include <linux/a.h>\n#include <asm/arch.h>\n",
		"arch/x86/include/asm/arch.h": "#define ARCH 1\n",
		"include/uapi/linux/u.h":      "#define U 1\n",
		"fs/proc/internal.h":          "#include <linux/u.h>\n",
		"fs/proc/base.c":              "#include <linux/a.h>\n  #  include \"internal.h\"\n",
		"fs/proc/cond.c":              "#ifdef CONFIG_X\n#include \"internal.h\"\n#endif\n",
		"fs/other.c":                  "#include \"proc/internal.h\"\n#include TRACE_INCLUDE(x)\n#include \"../../outside.h\"\n",
		"fs/plain.c":                  "/* nothing */\n",
	} {
		p := filepath.Join(tree, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	g := newIncludeGraph(tree)
	g.add([]string{"fs/proc/base.c", "fs/proc/cond.c", "fs/other.c", "fs/plain.c"})
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"fs/proc/base.c", "fs/proc/cond.c", "fs/other.c"}, keys(g.reaching("fs/proc/internal.h")),
		"quoted names beside the includer, conditional includes counted")
	assert.ElementsMatch(t, []string{"fs/proc/base.c", "include/linux/a.h", "include/linux/b.h"}, keys(g.reaching("arch/x86/include/asm/arch.h")),
		"through other headers, cycles included, arch directory first")
	assert.ElementsMatch(t, []string{"fs/proc/internal.h", "fs/proc/base.c", "fs/proc/cond.c", "fs/other.c"}, keys(g.reaching("include/uapi/linux/u.h")))
	assert.Empty(t, g.reaching("fs/plain.c"))
}
