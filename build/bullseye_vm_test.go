// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestRunOn510InVM proves build.Run on the second lab generation: a patch
// built against Debian bullseye's 5.10 kernel with its compile and link
// steps inside the lab's toolchain root (bullseye's gcc-10, which the host
// lacks), then loaded, live and unloaded in that kernel.
func TestRunOn510InVM(t *testing.T) {
	const guestKo = "/klp/klpkit-510.ko"
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510,
		Timeout:    3 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			if os.Geteuid() != 0 {
				t.Fatal("building inside the 5.10 lab's toolchain root needs root (mount namespace and chroot)")
			}
			tree := labTree(t, l)
			tree.MakeArgs = l.MakeArgs()
			start := time.Now()
			res, err := build.Run(t.Context(), build.Options{
				Source:    tree,
				Patches:   []string{filepath.Join(patchDir, "cmdline-string.patch")},
				Name:      "klpkit-510.ko",
				OutputDir: openTempDir(t),
				Toolchain: build.Toolchain{Mode: build.ToolchainRoot, Dir: l.ToolchainRoot},
				// The 5.10 lab's headers are inside its toolchain root,
				// under the lab directory (root's home, 0700 in CI), where
				// the build user cannot reach them by path.
				BuildAsRoot: true,
				Progress:    klpkit.On(func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) }),
			})
			require.NoError(t, err)
			t.Logf("built %s for %s in %s: %+v", res.Module, l.KernelRelease, time.Since(start).Round(time.Millisecond), res.Objects)
			requireGCC10(t, l, res.Module)
			return []vmtest.File{{Guest: guestKo, Host: res.Module}}
		},
	}, func(t *testing.T) {
		release, err := os.ReadFile("/proc/sys/kernel/osrelease")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(release), "5.10."), "guest kernel %q", release)
		loadUnload(cmdlineEffect)(t, []string{guestKo})
	})
}

// requireGCC10 checks that the compiler the 5.10 kernel's config names,
// bullseye's gcc-10, compiled the module.
func requireGCC10(t *testing.T, l *lab.Lab, ko string) {
	t.Helper()
	cc, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	want, ok := strings.CutPrefix(cc, "gcc-10 ")
	require.True(t, ok, "the 5.10 kernel's compiler: %q", cc)
	require.NoError(t, lab.CheckBuiltBy(ko, want))
}
