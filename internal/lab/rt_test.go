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

func TestCompareRTHeaders(t *testing.T) {
	headers := t.TempDir()
	writeFiles(t, headers, map[string]string{
		"include/linux/sched.h":          "rt sched\n",
		"arch/x86/include/asm/preempt.h": "rt preempt\n",
		"Makefile":                       "rt make\n",
	})
	require.NoError(t, os.Symlink("../linux-kbuild-6.1/scripts", filepath.Join(headers, "scripts")))
	for _, tc := range []struct {
		name  string
		tree  map[string]string
		fails string
	}{
		{"equal, more in the tree, the link not followed", map[string]string{
			"include/linux/sched.h": "rt sched\n", "arch/x86/include/asm/preempt.h": "rt preempt\n",
			"Makefile": "rt make\n", "kernel/sched/core.c": "core\n",
		}, ""},
		{"one differs", map[string]string{
			"include/linux/sched.h": "sched\n", "arch/x86/include/asm/preempt.h": "rt preempt\n", "Makefile": "rt make\n",
		}, "1 of the 3 files"},
		{"one missing", map[string]string{
			"include/linux/sched.h": "rt sched\n", "Makefile": "rt make\n",
		}, "arch/x86/include/asm/preempt.h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := t.TempDir()
			writeFiles(t, tree, tc.tree)
			n, err := compareRTHeaders(headers, tree)
			require.Equal(t, 3, n)
			if tc.fails == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrRTTree)
			require.ErrorContains(t, err, tc.fails)
		})
	}
	_, err := compareRTHeaders(t.TempDir(), t.TempDir())
	require.ErrorContains(t, err, "holds no files")
	_, err = compareRTHeaders(filepath.Join(headers, "missing"), t.TempDir())
	require.ErrorIs(t, err, os.ErrNotExist)
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
