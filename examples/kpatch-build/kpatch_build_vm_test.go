// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestKpatchBuildInVM runs the command end to end against each lab kernel
// generation (source tree, headers, -dbg vmlinux; Debian's 6.1 with the
// host's gcc-12, bullseye's 5.10 with its gcc-10 from the lab's toolchain
// root, --toolchain DIR) and loads the module it writes in that kernel.
func TestKpatchBuildInVM(t *testing.T) {
	for _, g := range lab.Generations {
		t.Run(string(g), func(t *testing.T) { kpatchBuildInVM(t, g) })
	}
}

func kpatchBuildInVM(t *testing.T, g lab.Generation) {
	const guestKo = "/klp/livepatch-cmdline-string.ko"
	vmtest.Run(t, vmtest.Config{
		Generation: g,
		Timeout:    3 * time.Minute,
		Append:     "no_timer_check",
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			if l.SourceDir == "" {
				t.Fatal("the lab was prepared without the source tree: run `make lab`")
			}
			out := t.TempDir()
			args := []string{"-s", l.SourceDir, "--kbuild", l.HeadersDir, "-c", l.Config, "-v", l.Vmlinux,
				"--cache", "none", "-o", out}
			if l.ToolchainRoot != "" {
				args = append(args, "--toolchain", l.ToolchainRoot)
			}
			for _, m := range l.MakeArgs() {
				args = append(args, "--make-arg", m)
			}
			args = append(args, "../../testdata/patches/cmdline-string.patch")
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := run(args, &stdout, &stderr)
			t.Logf("kpatch-build %s (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), stdout.String(), stderr.String())
			require.NoError(t, err)
			require.Contains(t, stdout.String(), "Kernel release "+l.KernelRelease+"\n", "release from the vmlinux banner")
			require.Contains(t, stdout.String(), "\nSUCCESS\n")
			ko := filepath.Join(out, "livepatch-cmdline-string.ko")
			require.FileExists(t, ko)
			return []vmtest.File{{Guest: guestKo, Host: ko}}
		},
	}, func(t *testing.T) {
		labtest.LoadShowsMarker(t, guestKo, "livepatch_cmdline_string", "/proc/cmdline", labtest.CmdlineMarker)
	})
}
