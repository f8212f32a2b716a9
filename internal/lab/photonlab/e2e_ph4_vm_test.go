// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// The ph4 livepatch: /proc/version gains a line (5.10's fs/proc/version.c).
const (
	ph4PatchName = "klp_photonlab_ph4"
	ph4Patch     = "ph4/livepatch/v1-proc-version.patch"
	ph4Marker    = "photonlab-ph4-livepatch: gcc-10\n"
	ph4GuestKo   = "/ph4/" + ph4PatchName + ".ko"
)

// TestPh4AutoLivepatchEndToEnd is Photon 4.0's livepatch flow on a host
// whose compiler is not the kernel's: auto_livepatch -k <the ph4 lab's
// 5.10 kernel> -p <patch> --rpm, with the default --toolchain auto and
// no --skip-compiler-check, against the lab repository on loopback plus a
// 4.0 release repository of toolchain RPMs (photonlab.ToolchainRPMs of
// the bullseye gcc-10 root the kernel was built in, Lab.ToolchainRoot, as
// Photon 4.0's gcc, binutils, glibc-devel, ...). The host's gcc-12
// differs from the kernel's gcc-10, so auto_livepatch must provision a
// root of gcc 10 from that repository and build there. The guest, booted
// on the ph4 kernel, loads the module the RPM carries, sees /proc/version
// change, unloads it and sees it revert. One boot.
func TestPh4AutoLivepatchEndToEnd(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510, // the ph4 lab's source and toolchain root are the 5.10 lab's
		Kernel:     func(t *testing.T, l *lab.Lab) string { return requirePh4(t).Vmlinuz },
		Timeout:    3 * time.Minute,
		Setup:      ph4Setup,
	}, ph4Guest)
}

// requirePh4 returns the ph4 Photon lab: when it is absent the test skips,
// naming the make target, or in CI fails.
func requirePh4(t *testing.T) *photonlab.Lab {
	t.Helper()
	pl, err := photonlab.OpenGeneration(lab.DirFromEnv(os.Getenv), photonlab.PH4)
	if errors.Is(err, photonlab.ErrNotPrepared) {
		needtest.Missing(t, "the Photon 4.0 lab (make lab-photon-ph4): %v", err)
	}
	require.NoError(t, err)
	return pl
}

// ph4Setup (host) builds and packages the livepatch with auto_livepatch
// and returns the module the RPM carries for the guest.
func ph4Setup(t *testing.T, _ *lab.Lab) []vmtest.File {
	pl := requirePh4(t)
	if os.Geteuid() != 0 {
		needtest.Missing(t, "the Photon toolchain root build needs root (mount namespace and chroot)")
	}
	require.NotEmpty(t, pl.ToolchainRoot, "the ph4 kernel was built in a toolchain root")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	autoLivepatch := vmtest.BuildStatic(t, root, "./examples/auto_livepatch", filepath.Join(t.TempDir(), "auto_livepatch"))

	// The kernel was built by bullseye's gcc-10; the host's gcc is not it.
	ccText, err := lab.ConfigCompiler(pl.Config)
	require.NoError(t, err)
	gccVersion := ccwrap.Version(ccText)
	require.True(t, strings.HasPrefix(gccVersion, "10."), "the ph4 kernel's compiler is gcc 10: %q", ccText)
	host, err := exec.CommandContext(ctx, "gcc", "--version").Output()
	require.NoError(t, err)
	hostLine, _, _ := strings.Cut(string(host), "\n")
	require.False(t, ccwrap.Same(ccText, hostLine, true), "the host's gcc must differ from the kernel's %q: %s", ccText, hostLine)

	// The 4.0 release repository: the toolchain RPMs, beside the lab's.
	start := time.Now()
	repo := serveToolchainRepo(t, ctx, pl.RepoDir, pl.ToolchainRoot, photon.Release(4),
		photonlab.ToolchainOptions{GCCVersion: gccVersion, Dist: ".ph4"})

	xdg, out, cache, work := t.TempDir(), t.TempDir(), t.TempDir(), openWorkDir(t)
	runStart := time.Now()
	cmd := exec.CommandContext(ctx, autoLivepatch, "-k", pl.KernelRelease,
		"-p", filepath.Join(root, "testdata/photonlab", ph4Patch), "-n", ph4PatchName, "--rpm", "-o", out,
		"--mirror", repo.srv.URL, "--cache", cache, "--work", work)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+xdg)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "auto_livepatch for the ph4 kernel:\n%s", log.String())
	t.Logf("auto_livepatch built and packaged %s in %s", ph4PatchName, time.Since(runStart).Round(100*time.Millisecond))
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, "toolchain") {
			t.Log("auto_livepatch: " + line)
		}
	}
	k, err := pl.Kernel()
	require.NoError(t, err)
	require.Contains(t, log.String(), "downloaded "+kernelsrc.DevelPackage.FileName(k), "the devel RPM is fetched")
	require.NotContains(t, log.String(), "vmlinux modules", "the devel RPM's Module.symvers spares the full build")

	// One root, from the 4.0 release repository's RPMs, holding gcc 10.
	gcc := repo.requireOneRoot(t, xdg, log.String(), gccVersion)
	require.Equal(t, gccVersion+"-2.ph4", gcc.Version, "the root's gcc is Photon 4.0's build of the kernel's")

	// The package: Photon's livepatch RPM for this kernel, carrying the
	// module the guest loads.
	pkgs, _ := filepath.Glob(filepath.Join(out, ph4PatchName+"-*.rpm"))
	require.Len(t, pkgs, 1, "one RPM in %s", out)
	requireKpatchRequired(t, pkgs[0])
	f, err := os.Open(pkgs[0])
	require.NoError(t, err)
	defer f.Close()
	unpacked := t.TempDir()
	_, err = rpmpkg.Extract(ctx, f, unpacked, nil)
	require.NoError(t, err)
	ko := filepath.Join(unpacked, rpmpkg.ModuleDir, ph4PatchName+".ko")
	packaged, err := os.ReadFile(ko)
	require.NoError(t, err, "the RPM carries the module")
	built, err := os.ReadFile(filepath.Join(out, ph4PatchName+".ko"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(built, packaged), "the RPM's module is the one built")
	t.Logf("the ph4 setup took %s in all", time.Since(start).Round(100*time.Millisecond))
	return []vmtest.File{
		{Guest: ph4GuestKo, Host: ko},
		{Guest: "/want-release", Data: []byte(pl.KernelRelease)},
	}
}

// ph4Guest (in the VM, the ph4 kernel): the packaged livepatch loads,
// changes /proc/version, unloads and the change is gone.
func ph4Guest(t *testing.T) {
	want, err := os.ReadFile("/want-release")
	require.NoError(t, err)
	labtest.RequireGuestRelease(t, string(want))
	labtest.LoadShowsMarker(t, ph4GuestKo, ph4PatchName, "/proc/version", ph4Marker)
	t.Logf("%s: /proc/version showed %q while loaded, and not before or after", ph4PatchName, strings.TrimSpace(ph4Marker))
}
