// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// photonSource is a kernel tree whose source provides its toolchain from
// a Photon repository, as build/photonsource does for a Photon kernel.
type photonSource struct {
	tree *build.Tree
	p    photontoolchain.Provisioner
}

func (s *photonSource) Tree(context.Context) (*build.Tree, error) { return s.tree, nil }
func (s *photonSource) Capabilities() build.Capabilities {
	return build.Capabilities{Toolchain: func(ctx context.Context, compiler, cacheDir string) (*toolchain.Root, error) {
		p := s.p
		p.CacheDir = filepath.Join(cacheDir, "photon")
		return p.ProvisionFor(ctx, compiler)
	}}
}

// photonToolchainRepo serves a Photon 5.0 release repository (and an empty
// updates repository) holding root's files as Photon-style toolchain RPMs
// (photonlab.ToolchainRPMs), signed by a key made here, whose public half
// it returns.
func photonToolchainRepo(t *testing.T, ctx context.Context, root *toolchain.Root, gccVersion string) (string, []byte) {
	t.Helper()
	signer, pub := pgptest.Signer(t, pgptest.Options{Name: "Photon lab toolchain"}, rpmpkg.NewOpenPGPSigner)

	base := t.TempDir()
	when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	rpms, err := photonlab.ToolchainRPMs(ctx, root.Dir, filepath.Join(base, "5.0/photon_release_5.0_x86_64/x86_64"),
		photonlab.ToolchainOptions{GCCVersion: gccVersion, Dist: ".ph5", BuildTime: when, Signer: signer})
	require.NoError(t, err)
	var size int64
	for _, f := range rpms {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		size += fi.Size()
	}
	t.Logf("%d Photon-style toolchain RPMs (%.1f MB) of %s in %s", len(rpms), float64(size)/1e6, root.Dir, time.Since(start).Round(time.Millisecond))
	for _, r := range photontoolchain.DefaultRepos(photon.Release(5)) {
		require.NoError(t, os.MkdirAll(filepath.Join(base, r), 0o755))
		require.NoError(t, photonlab.WriteRepodata(filepath.Join(base, r), when))
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(base)))
	t.Cleanup(srv.Close)
	return srv.URL, pub
}

// photonRootBuild builds with --toolchain auto against the lab tree as a
// Photon kernel's source offers it, the host's compiler made to differ
// from the kernel's (a gcc-12 first in PATH that reports another
// version): auto mode must provision the kernel's compiler from the Photon
// repository of the Debian root's files, and the compiler check and the
// build run in that root. It returns what build1 returns.
func photonRootBuild(t *testing.T, ctx context.Context, tree *build.Tree, ccText string, debRoot *toolchain.Root,
	build1 func(build.Source, build.Toolchain) (string, []string)) (string, []string, *toolchain.Root) {
	t.Helper()
	version := ccwrap.Version(ccText)
	url, pub := photonToolchainRepo(t, ctx, debRoot, version)

	// What the provisioned root holds: the kernel's compiler.
	p := photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{url}, SigningKeys: pub}
	cache := t.TempDir()
	start := time.Now()
	list, err := p.Resolve(ctx, ccText)
	require.NoError(t, err)
	p.CacheDir = filepath.Join(cache, "photon")
	root, err := p.Provision(ctx, list)
	require.NoError(t, err)
	t.Logf("Photon toolchain root: %d packages resolved from repodata, provisioned in %s", len(list), time.Since(start).Round(time.Millisecond))
	line, err := root.VersionLine(ctx, "gcc")
	require.NoError(t, err)
	require.True(t, ccwrap.Same(ccText, line, false), "the root's gcc says %q, the kernel's config %q", line, ccText)

	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "gcc-12"), []byte("#!/bin/sh\necho 'gcc-12 (GCC) 12.9.9'\n"), 0o755))
	path := os.Getenv("PATH")
	require.NoError(t, os.Setenv("PATH", fake+":"+path))
	defer os.Setenv("PATH", path) // the caller's later builds use the host's gcc-12
	dir, events := build1(&photonSource{tree: tree, p: photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{url}, SigningKeys: pub}},
		build.Toolchain{Mode: build.ToolchainAuto, CacheDir: cache})
	return dir, events, root
}
