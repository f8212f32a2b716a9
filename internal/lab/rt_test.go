// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

func TestOverlayRT(t *testing.T) {
	headers, tree := t.TempDir(), t.TempDir()
	writeFiles(t, headers, map[string]string{
		"include/linux/sched.h":          "rt sched\n",
		"include/linux/list.h":           "list\n",
		"arch/x86/include/asm/preempt.h": "rt preempt\n",
	})
	require.NoError(t, os.Symlink("../linux-kbuild-6.1/scripts", filepath.Join(headers, "scripts")))
	writeFiles(t, tree, map[string]string{
		"include/linux/sched.h": "sched\n",
		"include/linux/list.h":  "list\n",
		"scripts/Makefile":      "kept\n",
		"kernel/sched/core.c":   "core\n",
	})
	copied, changed, err := overlayRT(headers, tree)
	require.NoError(t, err)
	require.Equal(t, 3, copied)
	require.Equal(t, 2, changed, "list.h is the same")
	for name, want := range map[string]string{
		"include/linux/sched.h":          "rt sched\n",
		"arch/x86/include/asm/preempt.h": "rt preempt\n",
		"scripts/Makefile":               "kept\n", // a link in the headers is not followed
		"kernel/sched/core.c":            "core\n",
	} {
		got, err := os.ReadFile(filepath.Join(tree, name))
		require.NoError(t, err)
		require.Equal(t, want, string(got), name)
	}
	fi, err := os.Lstat(filepath.Join(tree, "scripts"))
	require.NoError(t, err)
	require.True(t, fi.IsDir())

	_, _, err = overlayRT(t.TempDir(), tree)
	require.ErrorContains(t, err, "holds no files")
	_, _, err = overlayRT(filepath.Join(headers, "missing"), tree)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestApplyRTKconfig(t *testing.T) {
	tree := t.TempDir()
	writeFiles(t, tree, map[string]string{
		"kernel/Kconfig.preempt":       "config PREEMPT_RT\n\tbool\n",
		"arch/x86/Kconfig":             "config X86\n\tdef_bool y\n",
		"drivers/gpu/drm/i915/Kconfig": "config DRM_I915\n\tdepends on DRM\n\tdepends on !PREEMPT_RT\n\tselect SHMEM\n",
	})
	require.NoError(t, applyRTKconfig(tree))
	i915, err := os.ReadFile(filepath.Join(tree, "drivers/gpu/drm/i915/Kconfig"))
	require.NoError(t, err)
	require.Equal(t, "config DRM_I915\n\tdepends on DRM\n\tselect SHMEM\n", string(i915))
	x86, err := os.ReadFile(filepath.Join(tree, "arch/x86/Kconfig"))
	require.NoError(t, err)
	require.Contains(t, string(x86), "\tselect ARCH_SUPPORTS_RT\n")
	preempt, err := os.ReadFile(filepath.Join(tree, "kernel/Kconfig.preempt"))
	require.NoError(t, err)
	require.Contains(t, string(preempt), "config PREEMPT_LAZY\n")

	// A second run finds i915's dependency gone: the tree is not the
	// expected one, and it says so rather than append twice.
	err = applyRTKconfig(tree)
	require.ErrorContains(t, err, "appears 0 times")
}

func TestSameAssignments(t *testing.T) {
	for _, tc := range []struct {
		name, want, got string
		diff            []string
	}{
		{"same, other order and comments", "# c\nCONFIG_A=y\nCONFIG_B=m\n", "CONFIG_B=m\n# CONFIG_C is not set\nCONFIG_A=y\n", nil},
		{"dropped and added", "CONFIG_PREEMPT_RT=y\nCONFIG_A=y\n", "CONFIG_A=y\nCONFIG_PREEMPT_NONE=y\n", []string{"+CONFIG_PREEMPT_NONE=y", "-CONFIG_PREEMPT_RT=y"}},
		{"changed value", "CONFIG_X=0\n", "CONFIG_X=1\n", []string{"+CONFIG_X=1", "-CONFIG_X=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diff, err := sameAssignments(strings.NewReader(tc.want), strings.NewReader(tc.got))
			require.NoError(t, err)
			require.Equal(t, tc.diff, diff)
		})
	}
}

func TestRTCommonHeaders(t *testing.T) {
	k := Kernel{Release: "6.1.0-57-rt-amd64", Version: "6.1.192-3"}
	require.Equal(t, "/usr/src/linux-headers-6.1.0-57-common-rt", k.rtCommonHeaders("/"))
	require.Equal(t, "linux-image-6.1.0-57-rt-amd64-dbg", k.dbgPackage())
	require.Equal(t, "linux-source-6.1", k.sourcePackage())
}
