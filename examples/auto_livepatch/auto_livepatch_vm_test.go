// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/rpmpkg"
)

// TestAutoLivepatchPhotonLabInVM runs the command end to end as a Photon
// user would, against the Photon lab's repository served on loopback
// (--mirror): fetch and verify the kernel's RPMs, prepare its tree from the
// spec, build the module and its RPM; then the Photon lab kernel loads the
// module in the VM. A --check --json dry run goes first.
func TestAutoLivepatchPhotonLabInVM(t *testing.T) {
	const guestKo = "/klp/livepatch.ko"
	vmtest.Run(t, vmtest.Config{
		Kernel:  func(t *testing.T, l *lab.Lab) string { return labtest.RequirePhoton(t, l).Vmlinuz },
		Timeout: 3 * time.Minute,
		Append:  "no_timer_check",
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			pl := labtest.RequirePhoton(t, l)
			srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
			defer srv.Close()
			// Where the build user (auto_livepatch as root runs make as
			// nobody) can reach the prepared tree: not t.TempDir (0700).
			dir, out := photonsourcetest.TempDir(t), t.TempDir()
			args := []string{"-k", pl.KernelRelease, "-p", "../../testdata/patches/cmdline-string.patch",
				"-n", "klpkit-photon-cmdline", "--rpm", "--rpm-version", "2", "-o", out,
				"--mirror", srv.URL, "--cache", filepath.Join(dir, "cache"), "--work", filepath.Join(dir, "work"),
				// The lab kernel's Module.symvers (Photon: linux-devel's) spares the one-time full build.
				"--symvers", pl.ModuleSymvers}
			for _, m := range lab.KbuildArgs(pl.KernelRelease) {
				if !strings.HasPrefix(m, "KERNELRELEASE=") { // a Photon tree knows its release
					args = append(args, "--make-arg", m)
				}
			}
			// A dry run first: it fetches and prepares what the build then
			// reuses, and build.Check meets the real tree, config,
			// vmlinux and compiler.
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := run(append(args, "--check", "--json"), &stdout, &stderr)
			t.Logf("auto_livepatch --check --json (%v)\nstdout:\n%s\nstderr:\n%s", time.Since(start).Round(time.Second), stdout.String(), stderr.String())
			require.NoError(t, err)
			var checked struct {
				OK    bool       `json:"ok"`
				Check bool       `json:"check"`
				Plan  build.Plan `json:"plan"`
			}
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &checked))
			require.True(t, checked.OK && checked.Check)
			require.Equal(t, []string{"fs/proc/cmdline.o"}, checked.Plan.Objects)
			require.Equal(t, filepath.Join(out, "klpkit-photon-cmdline.ko"), checked.Plan.Module)
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			require.Empty(t, entries, "a dry run writes nothing to the output directory")

			stdout.Reset()
			stderr.Reset()
			start = time.Now()
			err = run(args, &stdout, &stderr)
			t.Logf("auto_livepatch %s (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), time.Since(start).Round(time.Second), stdout.String(), stderr.String())
			require.NoError(t, err)
			ko := filepath.Join(out, "klpkit-photon-cmdline.ko")
			rpmFile := filepath.Join(out, "klpkit-photon-cmdline-2-1.ph5.x86_64.rpm")
			require.FileExists(t, ko)
			f, err := os.Open(rpmFile)
			require.NoError(t, err)
			defer f.Close()
			info, err := rpmpkg.Inspect(t.Context(), f, nil)
			require.NoError(t, err)
			require.Equal(t, "Livepatch module for Linux "+pl.KernelRelease, info.Description)
			return []vmtest.File{{Guest: guestKo, Host: ko}}
		},
	}, func(t *testing.T) {
		labtest.LoadShowsMarker(t, guestKo, "klpkit_photon_cmdline", "/proc/cmdline", labtest.CmdlineMarker)
	})
}
