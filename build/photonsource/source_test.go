// SPDX-License-Identifier: Apache-2.0

package photonsource_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

const kernel = "6.1.138-2.ph5"

func newSource(t *testing.T, baseURL string) *photonsource.Source {
	return &photonsource.Source{
		Kernel:   photon.MustParseKernel(kernel),
		Repo:     &kernelsrc.Repo{BaseURLs: []string{baseURL}, CacheDir: t.TempDir(), Download: &kernelsrc.DownloadOptions{Attempts: 1}},
		Dir:      photonsourcetest.TempDir(t),
		Make:     photonsourcetest.FakeMake(t),
		MakeArgs: []string{"CC=gcc"},
		Prepare:  kernelsrc.PrepareOptions{SkipCompilerCheck: true},
	}
}

func TestTreeFromMirror(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	src := newSource(t, repo.Serve(t))
	var steps, warnings []string
	src.Progress = func(p klpkit.Progress) { steps = append(steps, p.Step+": "+p.Message) }
	src.Warn = func(msg string) { warnings = append(warnings, msg) }

	tree, err := src.Tree(t.Context())
	require.NoError(t, err)
	assert.Equal(t, kernel, tree.Release)
	assert.FileExists(t, filepath.Join(tree.Dir, "fs/proc/cmdline.c"))
	cfg, err := os.ReadFile(tree.Config)
	require.NoError(t, err)
	assert.Contains(t, string(cfg), `CONFIG_LOCALVERSION="-2.ph5"`)
	assert.FileExists(t, tree.Vmlinux)
	assert.Equal(t, filepath.Join(tree.Dir, "Module.symvers"), tree.ModuleSymvers)
	assert.FileExists(t, tree.ModuleSymvers, "the full build wrote it")
	assert.Equal(t, tree.Dir, tree.ModulesDir)
	assert.Equal(t, []string{"CC=gcc"}, tree.MakeArgs)
	log, err := os.ReadFile(filepath.Join(tree.Dir, "make.log"))
	require.NoError(t, err)
	j := strconv.Itoa(runtime.NumCPU())
	assert.Equal(t, "-j"+j+"\nCC=gcc\nolddefconfig\n-j"+j+"\nCC=gcc\nvmlinux\nmodules\n", string(log))
	assert.Equal(t, []string{
		"fetch: fetching linux-6.1.138-2.ph5.src.rpm",
		"fetch: fetching linux-debuginfo-6.1.138-2.ph5.x86_64.rpm",
		"fetch: fetching linux-devel-6.1.138-2.ph5.x86_64.rpm",
		"prepare: preparing the source tree of 6.1.138-2.ph5",
		"kbuild: running make vmlinux modules in " + tree.Dir + " (once per kernel)",
	}, steps)
	// No devel RPM in the repository: the full build, announced with its
	// cost and the way around it.
	require.Len(t, warnings, 1)
	for _, want := range []string{"no devel RPM for 6.1.138-2.ph5", "make vmlinux modules", "hours with " + strconv.Itoa(runtime.NumCPU()) + " jobs",
		"small kernel: minutes", "linux-devel-6.1.138-2.ph5.x86_64.rpm", "5.0/photon_updates_5.0_x86_64",
		"/usr/src/linux-headers-6.1.138-2.ph5/Module.symvers", "--symvers"} {
		assert.Contains(t, warnings[0], want)
	}

	// The same Source gives the same tree again without a step (build.Run
	// asks a Source the CLI prepared first).
	steps = nil
	same, err := src.Tree(t.Context())
	require.NoError(t, err)
	assert.Equal(t, tree, same)
	assert.Empty(t, steps, "Tree's work is done once per Source")

	// A second run (a new Source) reuses the cache, the prepared tree and
	// the build.
	next := &photonsource.Source{Kernel: src.Kernel, Repo: src.Repo, Dir: src.Dir, Make: src.Make, MakeArgs: src.MakeArgs,
		Prepare: src.Prepare, Progress: src.Progress}
	again, err := next.Tree(t.Context())
	require.NoError(t, err)
	assert.Equal(t, tree, again)
	assert.Len(t, steps, 4, "no make the second time: %q", steps)
	log2, _ := os.ReadFile(filepath.Join(tree.Dir, "make.log"))
	assert.Equal(t, string(log), string(log2))
}

func TestKnownSymversOnlyPrepares(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	url := repo.Serve(t)
	src := newSource(t, url)
	src.Jobs = 3
	symvers := filepath.Join(t.TempDir(), "Module.symvers")
	require.NoError(t, os.WriteFile(symvers, []byte("0x0\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"), 0o644))
	src.ModuleSymvers = symvers
	tree, err := src.Tree(t.Context())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(tree.Dir, "Module.symvers"), tree.ModuleSymvers, "copied into the tree, where kbuild's modpost reads it")
	copied, err := os.ReadFile(tree.ModuleSymvers)
	require.NoError(t, err)
	assert.Equal(t, "0x0\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n", string(copied))
	assert.Empty(t, tree.ModulesDir)
	log, err := os.ReadFile(filepath.Join(tree.Dir, "make.log"))
	require.NoError(t, err)
	assert.Equal(t, "-j3\nCC=gcc\nolddefconfig\n-j3\nCC=gcc\nmodules_prepare\n", string(log))

	src = newSource(t, url)
	src.ModuleSymvers = filepath.Join(t.TempDir(), "missing")
	_, err = src.Tree(t.Context())
	require.ErrorIs(t, err, os.ErrNotExist)
}

// With the kernel's devel RPM in the repository, its Module.symvers is
// used and the tree only prepared; --symvers (ModuleSymvers) overrides it.
func TestDevelSymversSparesFullBuild(t *testing.T) {
	k := photon.MustParseKernel(kernel)
	repo := photonsourcetest.NewRepo(t, kernel)
	develSymvers := "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
	repo.AddDevel(t, k, []byte(develSymvers))
	url := repo.Serve(t)

	src := newSource(t, url)
	src.Jobs = 2
	var steps, warnings []string
	src.Progress = func(p klpkit.Progress) { steps = append(steps, p.Step+": "+p.Message) }
	src.Warn = func(msg string) { warnings = append(warnings, msg) }
	tree, err := src.Tree(t.Context())
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.Contains(t, steps, "fetch: fetching linux-devel-6.1.138-2.ph5.x86_64.rpm")
	got, err := os.ReadFile(tree.ModuleSymvers)
	require.NoError(t, err)
	assert.Equal(t, develSymvers, string(got), "the devel RPM's Module.symvers, in the tree")
	assert.Empty(t, tree.ModulesDir, "no full build, no built modules")
	log, err := os.ReadFile(filepath.Join(tree.Dir, "make.log"))
	require.NoError(t, err)
	assert.Equal(t, "-j2\nCC=gcc\nolddefconfig\n-j2\nCC=gcc\nmodules_prepare\n", string(log))

	// ModuleSymvers overrides the devel RPM, which is then not fetched.
	src = newSource(t, url)
	own := filepath.Join(t.TempDir(), "Module.symvers")
	require.NoError(t, os.WriteFile(own, []byte("0x1\tmine\tvmlinux\tEXPORT_SYMBOL\t\n"), 0o644))
	src.ModuleSymvers = own
	steps = nil
	src.Progress = func(p klpkit.Progress) { steps = append(steps, p.Step+": "+p.Message) }
	tree, err = src.Tree(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, steps, "fetch: fetching linux-devel-6.1.138-2.ph5.x86_64.rpm")
	got, err = os.ReadFile(tree.ModuleSymvers)
	require.NoError(t, err)
	assert.Equal(t, "0x1\tmine\tvmlinux\tEXPORT_SYMBOL\t\n", string(got))

	// A devel RPM that fails verification stops the build: no silent
	// fall back to hours of building.
	repo.Corrupt(t, k, kernelsrc.DevelPackage)
	src = newSource(t, url)
	_, err = src.Tree(t.Context())
	require.ErrorIs(t, err, kernelsrc.ErrChecksumMismatch)
}

// ModuleDebugDir extracts the debuginfo RPM's module debug files once
// (the fixture's kernel has none: an empty directory).
func TestModuleDebugDir(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	src := newSource(t, repo.Serve(t))
	require.NotNil(t, src.Capabilities().ModuleDebugDir)
	_, err := src.ModuleDebugDir(t.Context())
	require.Error(t, err, "nothing prepared yet")
	_, err = src.Tree(t.Context())
	require.NoError(t, err)
	var steps []string
	src.Progress = func(p klpkit.Progress) { steps = append(steps, p.Message) }
	dir, err := src.ModuleDebugDir(t.Context())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("usr/lib/debug/lib/modules", kernel), dir[len(dir)-len("usr/lib/debug/lib/modules/"+kernel):])
	assert.Equal(t, []string{"extracting the modules' debug information from linux-debuginfo-6.1.138-2.ph5.x86_64.rpm"}, steps)
	again, err := src.ModuleDebugDir(t.Context())
	require.NoError(t, err)
	assert.Equal(t, dir, again)
	assert.Len(t, steps, 1, "extracted once")
}

func TestTreeErrors(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	url := repo.Serve(t)

	src := newSource(t, url)
	src.Kernel = photon.MustParseKernel("6.1.138-1.ph5-esx")
	_, err := src.Tree(t.Context())
	require.ErrorIs(t, err, photon.ErrNotLivepatchable)
	require.ErrorIs(t, src.Livepatchable(), photon.ErrNotLivepatchable)
	require.ErrorIs(t, src.Capabilities().Livepatchable(), photon.ErrNotLivepatchable)

	src = newSource(t, url)
	src.Kernel = photon.MustParseKernel("6.1.138-9.ph5")
	_, err = src.Tree(t.Context())
	require.ErrorIs(t, err, kernelsrc.ErrPackageNotFound)
	assert.Contains(t, err.Error(), "linux-6.1.138-9.ph5.src.rpm")

	src = newSource(t, url)
	src.Repo = nil
	_, err = src.Tree(t.Context())
	require.ErrorIs(t, err, photonsource.ErrNoRepo)

	src = newSource(t, url)
	src.Make = "false"
	_, err = src.Tree(t.Context())
	var me *photonsource.MakeError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, []string{"olddefconfig"}, me.Targets)

	repo.Corrupt(t, photon.MustParseKernel(kernel), kernelsrc.DebuginfoPackage)
	src = newSource(t, url)
	_, err = src.Tree(t.Context())
	require.ErrorIs(t, err, kernelsrc.ErrChecksumMismatch)
	assert.True(t, errors.Is(err, kernelsrc.ErrChecksumMismatch))
}

// A replace build for a Photon 3.0 kernel is refused before anything is
// fetched: the kernel's release is known up front.
func TestReplaceRefusedBeforeFetch(t *testing.T) {
	fetched := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched = true
		http.NotFound(w, r)
	}))
	defer srv.Close()
	src := newSource(t, srv.URL)
	src.Kernel = photon.MustParseKernel("4.19.325-1.ph3")
	assert.Equal(t, "4.19.325-1.ph3", src.Capabilities().Release)
	_, err := build.Run(t.Context(), build.Options{Source: src, Patches: []string{"fix.patch"}, OutputDir: t.TempDir()})
	require.ErrorIs(t, err, build.ErrReplaceUnsupported)
	assert.Contains(t, err.Error(), "kernel 4.19.325-1.ph3 (Linux 4.19)")
	assert.False(t, fetched, "nothing was downloaded")
}

// BuildAll builds a prepared-only tree in full once (build.Run asks for it
// when a header changes) and keeps the given Module.symvers in place.
func TestBuildAll(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	src := newSource(t, repo.Serve(t))
	require.NotNil(t, src.Capabilities().BuildAll)
	require.Error(t, src.BuildAll(t.Context()), "nothing prepared yet")
	symvers := filepath.Join(t.TempDir(), "Module.symvers")
	require.NoError(t, os.WriteFile(symvers, []byte("0x1\tkernel_symbol\tvmlinux\tEXPORT_SYMBOL\t\n"), 0o644))
	src.ModuleSymvers = symvers
	tree, err := src.Tree(t.Context())
	require.NoError(t, err)
	logFile := filepath.Join(tree.Dir, "make.log")
	before, err := os.ReadFile(logFile)
	require.NoError(t, err)

	require.NoError(t, src.BuildAll(t.Context()))
	log, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(log[len(before):]), "vmlinux\nmodules\n")
	kept, err := os.ReadFile(tree.ModuleSymvers)
	require.NoError(t, err)
	assert.Equal(t, "0x1\tkernel_symbol\tvmlinux\tEXPORT_SYMBOL\t\n", string(kept), "the given Module.symvers, not the build's")

	require.NoError(t, src.BuildAll(t.Context()))
	again, _ := os.ReadFile(logFile)
	assert.Equal(t, string(log), string(again), "built once")
}
