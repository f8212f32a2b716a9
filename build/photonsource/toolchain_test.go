// SPDX-License-Identifier: Apache-2.0

package photonsource_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Tree leaves the compiler check to build.Run, which checks the compiler
// it builds with (the host's or a toolchain root's): kernelsrc.Prepare's
// check (a compile of a test file) does not run. In auto mode a host
// compiler that is not the kernel's is only asked its --version (it then
// chooses a toolchain root, here one the repository lacks).
func TestTreeLeavesCompilerCheckToRun(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	src := newSource(t, repo.Serve(t))
	src.Prepare = kernelsrc.PrepareOptions{} // the check not skipped
	src.Toolchain = build.Toolchain{Mode: build.ToolchainAuto, CacheDir: t.TempDir()}
	runs := filepath.Join(t.TempDir(), "runs")
	cc := filepath.Join(t.TempDir(), "gcc-other")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho \"$@\" >> "+runs+"\necho 'gcc-other (GCC) 99.1.0'\n"), 0o755))
	src.MakeArgs = []string{"CC=" + cc}
	_, err := src.Tree(t.Context())
	require.ErrorIs(t, err, build.ErrToolchainUnavailable)
	got, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, "--version\n", string(got), "Tree asked the compiler its version only")
}

// The source offers its kernel's toolchain to build.Run's auto mode, from
// a repository it can reach by URL.
func TestProvideToolchain(t *testing.T) {
	src := newSource(t, "http://127.0.0.1:1/photon")
	provide := src.Capabilities().Toolchain
	require.NotNil(t, provide)

	src.Repo = &kernelsrc.Repo{Dir: t.TempDir()}
	_, err := provide(t.Context(), "gcc (GCC) 12.2.0", t.TempDir())
	require.ErrorIs(t, err, photonsource.ErrNoToolchainRepo)

	// A repository without the release's toolchain repositories.
	repo := photonsourcetest.NewRepo(t, kernel)
	src.Repo = &kernelsrc.Repo{BaseURLs: []string{repo.Serve(t)}}
	_, err = provide(t.Context(), "gcc (GCC) 12.2.0", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5.0/photon_release_5.0_x86_64/repodata/repomd.xml")
	assert.Contains(t, err.Error(), "kernel "+kernel)

	src.Repo = nil
	_, err = provide(t.Context(), "gcc (GCC) 12.2.0", t.TempDir())
	require.ErrorIs(t, err, photonsource.ErrNoRepo)
}
