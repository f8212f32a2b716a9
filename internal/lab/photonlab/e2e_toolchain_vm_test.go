// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
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
	tcBase := t.TempDir()
	buildTime := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	signer, _ := pgptest.Signer(t, pgptest.Options{Name: "Photon lab toolchain"}, rpmpkg.NewOpenPGPSigner)
	rpms, err := photonlab.ToolchainRPMs(ctx, debRoot.Dir, filepath.Join(tcBase, "5.0/photon_release_5.0_x86_64/x86_64"),
		photonlab.ToolchainOptions{GCCVersion: ccwrap.Version(ccText), Dist: ".ph5", BuildTime: buildTime, Signer: signer})
	require.NoError(t, err)
	require.NoError(t, photonlab.WriteRepodata(filepath.Join(tcBase, "5.0/photon_release_5.0_x86_64"), buildTime))
	t.Logf("%d toolchain RPMs in %s", len(rpms), time.Since(start).Round(time.Millisecond))
	release := "/" + photontoolchain.DefaultRepos(photon.Release(5))[0] + "/"
	labRepo, tcRepo := http.FileServer(http.Dir(pl.RepoDir)), http.FileServer(http.Dir(tcBase))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, release) {
			tcRepo.ServeHTTP(w, r)
			return
		}
		labRepo.ServeHTTP(w, r)
	}))
	defer srv.Close()

	// The host builds cached their original objects: compile them again.
	require.NoError(t, os.RemoveAll(filepath.Join(cache, "objects")))
	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "gcc-12"), []byte("#!/bin/sh\necho 'gcc-12 (GCC) 12.9.9'\n"), 0o755))
	xdg, out := t.TempDir(), t.TempDir()
	p := e2ePatches[0]
	runStart := time.Now()
	cmd := exec.CommandContext(ctx, autoLivepatch, "-k", pl.KernelRelease,
		"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "-o", out,
		"--mirror", srv.URL, "--cache", cache, "--work", work,
		"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12")
	cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"), "XDG_CACHE_HOME="+xdg)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "auto_livepatch with the host's gcc-12 made to differ:\n%s", log.String())
	t.Logf("auto_livepatch built %s in a Photon toolchain root in %s", p.Name, time.Since(runStart).Round(100*time.Millisecond))

	// One root, provisioned for the tree and reused by the build, from
	// the repository's toolchain RPMs, holding the kernel's gcc.
	lists, _ := filepath.Glob(filepath.Join(xdg, "klpkit/toolchain/photon/roots/unsigned/*", toolchain.ListFile))
	require.Len(t, lists, 1, "one Photon toolchain root:\n%s", log.String())
	text, err := os.ReadFile(lists[0])
	require.NoError(t, err)
	list, err := toolchain.ParseList(string(text))
	require.NoError(t, err)
	require.Len(t, list, len(rpms), "the root holds every toolchain RPM:\n%s", text)
	for _, e := range list {
		require.True(t, strings.HasPrefix(e.URL, srv.URL+release), "%s comes from the lab's 5.0 release repository: %s", e.Name, e.URL)
	}
	gcc, ok := list.Find("gcc")
	require.True(t, ok, "the root has gcc:\n%s", text)
	require.True(t, strings.HasPrefix(gcc.Version, ccwrap.Version(ccText)+"-"), "the root's gcc is the kernel's %s: %s", ccwrap.Version(ccText), gcc.Version)
	require.Contains(t, log.String(), "provisioning the kernel's toolchain", "the host's compiler differs: auto provisions")
	require.Contains(t, log.String(), "building in toolchain root "+filepath.Dir(lists[0]))

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
