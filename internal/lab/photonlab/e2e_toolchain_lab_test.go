// SPDX-License-Identifier: Apache-2.0

//go:build linux && toolchain_e2e

// This test costs about 6.5 minutes on CI's 2 cores (the Photon tree's
// preparation in the root is 4 of them), which the 60-minute CI budget
// has no room for today: it runs with -tags toolchain_e2e. Folding its
// Photon-root build into e2eSetup's generic flavor, whose host builds
// prepare the tree already, would cost about a minute.

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

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// TestAutoLivepatchPhotonToolchain builds the lab's v1 livepatch for the
// generic Photon lab kernel with auto_livepatch twice: first with the
// host's gcc-12 made to differ from the kernel's (a gcc-12 first in PATH
// that reports another version), where --toolchain auto (the default)
// must make the tree ready and build the livepatch in a root of the
// kernel's toolchain, provisioned from Photon-style toolchain RPMs
// (photonlab.ToolchainRPMs of bookworm's gcc-12 root) in the lab
// repository's 5.0 release repository; then on the host, whose gcc-12
// built the kernel, from the same work directory and cache (the prepared
// tree is reused: its preparation is most of a run). The two modules must
// be the same bytes. No VM: what the module does is the e2e test's.
func TestAutoLivepatchPhotonToolchain(t *testing.T) {
	l := vmtest.RequireLab(t)
	if os.Geteuid() != 0 {
		needtest.Missing(t, "running inside a toolchain root needs root (mount namespace and chroot)")
	}
	pl := requireFlavor(t, l, photon.Generic)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	ccText, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	debRoot := bookwormRoot(t, ctx, ccText)

	// The lab repository, with a 5.0 release repository of toolchain RPMs.
	tcBase := t.TempDir()
	start := time.Now()
	rpms, err := photonlab.ToolchainRPMs(ctx, debRoot.Dir, filepath.Join(tcBase, "5.0/photon_release_5.0_x86_64/x86_64"),
		photonlab.ToolchainOptions{GCCVersion: ccwrap.Version(ccText), Dist: ".ph5", BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Signer: toolchainSigner(t)})
	require.NoError(t, err)
	require.NoError(t, photonlab.WriteRepodata(filepath.Join(tcBase, "5.0/photon_release_5.0_x86_64"), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
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

	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	autoLivepatch := vmtest.BuildStatic(t, root, "./examples/auto_livepatch", filepath.Join(t.TempDir(), "auto_livepatch"))
	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "gcc-12"), []byte("#!/bin/sh\necho 'gcc-12 (GCC) 12.9.9'\n"), 0o755))
	p := e2ePatches[0]
	work, cache := openWorkDir(t), t.TempDir()
	run := func(env ...string) ([]byte, string) {
		out := t.TempDir()
		start := time.Now()
		cmd := exec.CommandContext(ctx, autoLivepatch, "-k", pl.KernelRelease,
			"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "-o", out,
			"--mirror", srv.URL, "--cache", cache, "--work", work,
			"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12")
		cmd.Env = append(os.Environ(), env...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Run(), "auto_livepatch %s:\n%s", env, log.String())
		t.Logf("auto_livepatch %s: built in %s", env, time.Since(start).Round(100*time.Millisecond))
		ko, err := os.ReadFile(filepath.Join(out, p.Name+".ko"))
		require.NoError(t, err)
		return ko, log.String()
	}
	xdg := t.TempDir()
	photonKo, photonLog := run("PATH="+fake+":"+os.Getenv("PATH"), "XDG_CACHE_HOME="+xdg)
	roots, _ := filepath.Glob(filepath.Join(xdg, "klpkit/toolchain/photon/roots/unsigned/*", toolchain.ListFile))
	require.Len(t, roots, 1, "one Photon toolchain root, made for the tree and reused by the build:\n%s", photonLog)
	assert.Contains(t, photonLog, "building in toolchain root "+filepath.Dir(roots[0]))
	hostKo, hostLog := run()
	assert.NotContains(t, hostLog, "toolchain root")
	assert.True(t, bytes.Equal(hostKo, photonKo), "the livepatch differs between the host build and the Photon toolchain root's (%d and %d bytes)", len(hostKo), len(photonKo))
}

// bookwormRoot is the Debian root of the kernel's compiler, from the
// cache the build tests fill.
func bookwormRoot(t *testing.T, ctx context.Context, ccText string) *toolchain.Root {
	t.Helper()
	cache := os.Getenv("KLPKIT_TOOLCHAIN_DIR")
	if cache == "" {
		cache = filepath.Join(filepath.Dir(filepath.Clean(os.Getenv("KLPKIT_LAB_DIR"))), "toolchain")
	}
	gcc, err := toolchain.DebianCompiler(ccText)
	require.NoError(t, err)
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	require.NoError(t, err)
	ring, err := toolchain.ReadKeyring(keys)
	require.NoError(t, err)
	d := &toolchain.Debian{Suites: toolchain.Bookworm(), Keyring: ring, IndexCache: filepath.Join(cache, "index")}
	list, err := d.Resolve(ctx, toolchain.DebianKernelBuild(gcc))
	require.NoError(t, err)
	root, err := (&toolchain.Cache{Dir: filepath.Join(cache, "roots")}).Provision(ctx, list)
	require.NoError(t, err)
	return root
}

// toolchainSigner signs the toolchain RPMs with a key made here.
func toolchainSigner(t *testing.T) rpmpkg.Signer {
	t.Helper()
	e, err := openpgp.NewEntity("Photon lab toolchain", "test", "lab@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	require.NoError(t, err)
	var priv bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	require.NoError(t, err)
	require.NoError(t, e.SerializePrivate(w, nil))
	require.NoError(t, w.Close())
	signer, err := rpmpkg.NewOpenPGPSigner(&priv, nil)
	require.NoError(t, err)
	return signer
}
