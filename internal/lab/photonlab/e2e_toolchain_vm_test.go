// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/photon"
)

// toolchainGuestDir holds, in the guest, v1's module as auto_livepatch
// built it in a Photon toolchain root; absent for a flavor that does not
// build it.
const toolchainGuestDir = "/toolchain"

// toolchainSetup (host) builds v1 again with auto_livepatch, the host's
// gcc-12 made to differ from the kernel's (a gcc-12 first in PATH that
// reports another version): --toolchain auto (the default) must provision
// a root of the kernel's toolchain from Photon-style toolchain RPMs
// (photonlab.ToolchainRPMs of bookworm's gcc-12 root) in the lab
// repository's 5.0 release repository, and build the livepatch in it.
// It runs after e2eSetup's host builds, in their work directory, so the
// prepared tree (most of a cold run) is reused; their object cache is
// removed first, so that the original objects too are compiled in the
// root. The module must be the same bytes as the host's v1 (hostKo),
// and the guest loads it (toolchainGuest). As e2eSetup's full build, it
// runs for the generic flavor only: about a minute.
func toolchainSetup(t *testing.T, pl *photonlab.Lab, root, autoLivepatch, work, cache, hostKo string) []vmtest.File {
	if os.Geteuid() != 0 {
		if needtest.InCI() {
			t.Fatal("the Photon toolchain root build needs root (mount namespace and chroot) (CI=true: nothing may skip)")
		}
		t.Log("not root: the Photon toolchain root build is left out (it needs a mount namespace and chroot)")
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	ccText, err := lab.ConfigCompiler(pl.Config)
	require.NoError(t, err)
	debGCC, err := toolchain.DebianCompiler(ccText)
	require.NoError(t, err)
	debRoot, _ := labtest.BookwormRoot(t, ctx, toolchain.DebianKernelBuild(debGCC))

	// The lab repository, with a 5.0 release repository of toolchain RPMs.
	repo := serveToolchainRepo(t, ctx, pl.RepoDir, debRoot.Dir, photon.Release(5),
		photonlab.ToolchainOptions{GCCVersion: ccwrap.Version(ccText), Dist: ".ph5"})

	// The host builds cached their original objects: compile them again.
	require.NoError(t, os.RemoveAll(filepath.Join(cache, "objects")))
	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "gcc-12"), []byte("#!/bin/sh\necho 'gcc-12 (GCC) 12.9.9'\n"), 0o755))
	xdg, out := t.TempDir(), t.TempDir()
	p := e2ePatches[0]
	runStart := time.Now()
	cmd := exec.CommandContext(ctx, autoLivepatch, "-k", pl.KernelRelease,
		"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "-o", out,
		"--mirror", repo.srv.URL, "--cache", cache, "--work", work,
		"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12")
	cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"), "XDG_CACHE_HOME="+xdg)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "auto_livepatch with the host's gcc-12 made to differ:\n%s", log.String())
	t.Logf("auto_livepatch built %s in a Photon toolchain root in %s", p.Name, time.Since(runStart).Round(100*time.Millisecond))

	// One root, provisioned for the tree and reused by the build, from
	// the repository's toolchain RPMs, holding the kernel's gcc.
	repo.requireOneRoot(t, xdg, log.String(), ccwrap.Version(ccText))

	ko := filepath.Join(out, p.Name+".ko")
	got, err := os.ReadFile(ko)
	require.NoError(t, err)
	want, err := os.ReadFile(hostKo)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the livepatch differs between the host build and the Photon toolchain root's (%d and %d bytes)", len(want), len(got))
	t.Logf("the Photon toolchain root build took %s in all", time.Since(start).Round(100*time.Millisecond))
	return []vmtest.File{{Guest: toolchainGuestDir + "/" + p.Name + ".ko", Host: ko}}
}

// toolchainGuest (in the VM, kpatch installed) loads and unloads the
// module built in the Photon toolchain root when the host built one.
func toolchainGuest(t *testing.T) {
	p := e2ePatches[0]
	ko := toolchainGuestDir + "/" + p.Name + ".ko"
	if _, err := os.Stat(ko); os.IsNotExist(err) {
		return // this flavor's run does not build it
	}
	t.Log("kpatch load the module built in the Photon toolchain root")
	kpatchOK(t, "load", ko)
	requireLive(t, p)
	kpatchOK(t, "unload", p.Name)
	requireGone(t, p.Name)
	requireNotInFile(t, "/proc/version", p.Version)
}
