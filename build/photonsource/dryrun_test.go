// SPDX-License-Identifier: Apache-2.0

package photonsource_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// addToolchain publishes a Photon 5.0 toolchain in the fixture
// repository: gcc 12.2.0 and one package providing the rest of
// photontoolchain.KernelBuild.
func addToolchain(t *testing.T, dir string) {
	built := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tools := photontoolchain.KernelBuild("12.2.0")[1:] // gcc's is first
	for _, spec := range []rpmpkg.Spec{
		{Name: "gcc", Version: "12.2.0", Release: "2.ph5", Requires: []string{"make"},
			Files: []rpmpkg.File{{Name: "/usr/bin/gcc", Mode: 0o755, Body: []byte("#!/bin/sh\necho 'gcc (GCC) 12.2.0'\n")}}},
		{Name: "build-tools", Version: "1", Release: "1.ph5", Provides: tools,
			Files: []rpmpkg.File{{Name: "/usr/bin/make", Mode: 0o755, Body: []byte("make")}}},
	} {
		spec.Arch, spec.Summary, spec.Description, spec.License, spec.BuildTime = "x86_64", spec.Name, spec.Name, "GPL", built
		var buf bytes.Buffer
		require.NoError(t, rpmpkg.Write(&buf, spec))
		p := filepath.Join(dir, "5.0/photon_release_5.0_x86_64/x86_64", spec.FileName())
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	}
	for _, repo := range photontoolchain.DefaultRepos(photon.Release(5)) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, repo), 0o755))
		require.NoError(t, photonlab.WriteRepodata(filepath.Join(dir, repo), built))
	}
}

// A dry run's Tree (Source.DryRun, for build.Check) provisions no
// toolchain root: the host's compiler not the kernel's, it downloads no
// toolchain package, builds no root and leaves make out of the tree;
// Capabilities.ToolchainPlan names the root a build would provision.
func TestDryRunProvisionsNoRoot(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	addToolchain(t, repo.Dir)
	var rpms atomic.Int64
	files := http.FileServer(http.Dir(repo.Dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if base := filepath.Base(r.URL.Path); strings.HasPrefix(base, "gcc-") || strings.HasPrefix(base, "build-tools-") {
			rpms.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	src := newSource(t, srv.URL)
	src.Prepare.SkipCompilerCheck = false
	cc := filepath.Join(t.TempDir(), "gcc-x")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho 'gcc-x (GCC) 99.1.0'\n"), 0o755))
	src.MakeArgs = []string{"CC=" + cc}
	cache := t.TempDir()
	src.Toolchain = build.Toolchain{Mode: build.ToolchainAuto, CacheDir: cache}
	src.DryRun = true
	var steps []string
	src.Progress = func(p klpkit.Progress) { steps = append(steps, p.Message) }
	tree, err := src.Tree(t.Context())
	if os.Geteuid() != 0 {
		require.ErrorIs(t, err, build.ErrToolchainUnavailable, "a root needs root, dry run or not")
		return
	}
	require.NoError(t, err)
	assert.Empty(t, makeLogs(t, src.Dir), "make is left out")
	assert.Zero(t, rpms.Load(), "no toolchain package downloaded")
	roots, _ := filepath.Glob(filepath.Join(cache, "photon", "roots", "*", "*"))
	assert.Empty(t, roots, "no root built")
	assert.FileExists(t, tree.Config, "the tree is prepared from the source RPM")
	assert.True(t, containsPrefix(steps, "dry run: the host's "), "%q", steps)

	plan, err := src.Capabilities().ToolchainPlan(t.Context(), "(GCC) 12.2.0", cache)
	require.NoError(t, err)
	assert.False(t, plan.Cached)
	assert.Equal(t, "(GCC) 12.2.0", plan.Compiler)
	assert.Equal(t, "Photon 5.0 repositories "+srv.URL+"/5.0/photon_release_5.0_x86_64, "+srv.URL+"/5.0/photon_updates_5.0_x86_64", plan.From)
	var names []string
	for _, p := range plan.Packages {
		names = append(names, p.Name+" "+p.Version)
		assert.True(t, strings.HasPrefix(p.URL, srv.URL+"/5.0/photon_release_5.0_x86_64/"), p.URL)
	}
	assert.Equal(t, []string{"build-tools 1-1.ph5", "gcc 12.2.0-2.ph5"}, names)
	assert.True(t, strings.HasPrefix(plan.Dir, filepath.Join(cache, "photon", "roots", "unsigned")+"/"), plan.Dir)
	assert.Zero(t, rpms.Load())
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
