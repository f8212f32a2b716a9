// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/testcorpus"
)

// kpatch's integration suite (../shared/testdata/kpatch-integration-6.2)
// run the way its kpatch-test runs it: each NAME.patch is built into
// test-NAME.ko (a *-FAIL.patch must be refused), each module's
// NAME-LOADED.test fails before `kpatch load`, passes while loaded and fails
// after `kpatch unload`; all non-FAIL patches are also built as one
// test-COMBINED.ko, checked the same way against every LOADED test; and
// multiple.test stacks the single modules. The scripts run unchanged in the
// guest, as kpatch's own checks, with bash (bash-static), busybox for the
// tools they call and a sudo that just runs its arguments.
//
// The guest mirrors kpatch's tree: the suite in
// /kpatch-test/test/integration/linux-6.2.0 (so multiple.template finds
// ROOTDIR/kpatch/kpatch, which is the project's kpatch CLI), the modules
// in /kpatch-test/test/integration, the working directory of every step.
const (
	suiteRoot    = "/kpatch-test"
	suiteWorkDir = suiteRoot + "/test/integration"
	suiteDir     = suiteWorkDir + "/linux-6.2.0"
	suiteKpatch  = suiteRoot + "/kpatch/kpatch"
)

// suiteFuzz is the fuzz a patch needs to apply to the lab's 6.1 source, as
// GNU patch (which kpatch-build uses) applies it by default.
var suiteFuzz = map[string]int{"shadow-newpid": 2}

// suiteRefusals say why a *-FAIL patch must be refused, beyond being
// refused at all (kpatch-test's only check).
var suiteRefusals = map[string]func(t *testing.T, err error){
	// Only a blank line added: __LINE__ in WARN data moves, no code changes.
	"warn-detect-FAIL": func(t *testing.T, err error) {
		require.ErrorIs(t, err, build.ErrNoChanges)
		require.ErrorContains(t, err, "only line numbers moved")
	},
	// The patched object changes the CRC of an exported symbol.
	"symvers-disagreement-FAIL": func(t *testing.T, err error) {
		require.ErrorIs(t, err, build.ErrExportVersionChanged)
		require.ErrorContains(t, err, "version disagreement")
	},
}

// suiteDmesg are kernel log lines a check expects beyond its script:
// macro-callbacks prints from its callbacks for each patched object
// (vmlinux, and joydev and pcspkr, which the guest loads at boot).
var suiteDmesg = map[string]struct{ loaded, unloaded []string }{
	"macro-callbacks": {
		loaded: []string{
			"pre_patch_callback: vmlinux", "post_patch_callback: vmlinux",
			"pre_patch_callback: joydev -> [MODULE_STATE_LIVE] Normal state",
			"post_patch_callback: joydev -> [MODULE_STATE_LIVE] Normal state",
			"pre_patch_callback: pcspkr -> [MODULE_STATE_LIVE] Normal state",
			"post_patch_callback: pcspkr -> [MODULE_STATE_LIVE] Normal state",
		},
		unloaded: []string{
			"pre_unpatch_callback: vmlinux", "post_unpatch_callback: vmlinux",
			"pre_unpatch_callback: joydev -> [MODULE_STATE_LIVE] Normal state",
			"post_unpatch_callback: pcspkr -> [MODULE_STATE_LIVE] Normal state",
		},
	},
}

// TestKpatchIntegrationInVM runs kpatch's integration suite in two boots:
// every single patch, then the combined module and multiple.test.
func TestKpatchIntegrationInVM(t *testing.T) {
	s := &hostSuite{top: t}
	t.Run("single", func(t *testing.T) {
		vmtest.Run(t, vmtest.Config{
			Timeout: 5 * time.Minute,
			Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
				s.buildSingles(t, l)
				return s.files(t, l)
			},
		}, guestSingles)
	})
	t.Run("combined", func(t *testing.T) {
		vmtest.Run(t, vmtest.Config{
			Timeout: 5 * time.Minute,
			Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
				s.buildSingles(t, l) // multiple.test stacks them
				s.buildCombined(t, l)
				return s.files(t, l)
			},
		}, guestCombined)
	})
}

// suitePatch is one patch of the suite.
type suitePatch struct {
	name string // file name without .patch
	path string
	test string // NAME-LOADED.test beside it, or ""
}

func (p suitePatch) mustFail() bool { return strings.HasSuffix(p.name, "-FAIL") }

// suitePatches lists dir's patches in glob order, as kpatch-test does.
func suitePatches(t *testing.T, dir string) []suitePatch {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no patches in %s", dir)
	sort.Strings(files)
	var out []suitePatch
	for _, f := range files {
		p := suitePatch{name: strings.TrimSuffix(filepath.Base(f), ".patch"), path: f}
		if test := filepath.Join(dir, p.name+"-LOADED.test"); fileExists(test) {
			p.test = test
		}
		out = append(out, p)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// hostSuite is the host's side: one output directory, one object cache and
// one kpatch CLI for both boots. It lives in the top-level test so the
// second boot reuses what the first built.
type hostSuite struct {
	top *testing.T
	// gen is the lab kernel built for: "" (6.1, the 6.2 suite in
	// ../shared) or lab.Bullseye510 (the 5.10.11 suite from the lab,
	// built in the lab's gcc-10 toolchain root).
	gen         lab.Generation
	lab         *lab.Lab
	dir         string
	tree        *build.Tree
	out, cache  string
	kpatch      string
	singlesDone bool
	// warnings are the build's warnings, by module name.
	warnings map[string][]string
}

func (s *hostSuite) init(t *testing.T, l *lab.Lab) {
	t.Helper()
	if s.tree != nil {
		return
	}
	s.lab = l
	s.tree = labTree(t, l)
	if s.gen == lab.Bullseye510 {
		dir, err := l.KpatchSuite510()
		require.NoError(t, err)
		s.dir = dir
		s.tree.MakeArgs = l.MakeArgs()
	} else {
		s.dir = testcorpus.KpatchIntegration(t)
	}
	// The build finds positions of duplicated names in the patched
	// modules (xfs, joydev, pcspkr) in the lab's copies of them.
	_, err := l.ModuleFiles()
	require.NoError(t, err, "the suite needs the lab kernel's modules: run `make lab`")
	s.tree.ModulesDir = l.ModulesDir
	// Original objects are cached beside the lab kernel (removed with it):
	// a warm lab builds only the patched side.
	s.out, s.cache = s.top.TempDir(), suiteCacheDir(l)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	s.kpatch = vmtest.BuildStatic(t, root, "./examples/kpatch", filepath.Join(s.top.TempDir(), "kpatch"))
}

// build builds test-<name>.ko from patches into the shared output
// directory, with the shared cache, as a stacking (-R) module: multiple.test
// loads the modules together.
func (s *hostSuite) build(t *testing.T, name string, fuzz int, patches ...string) (string, error) {
	t.Helper()
	start := time.Now()
	opts := build.Options{
		Source:    s.tree,
		Patches:   patches,
		Name:      "test-" + name,
		NoReplace: true,
		OutputDir: s.out,
		CacheDir:  s.cache,
		Fuzz:      fuzz,
		Progress:  klpkit.On(func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) }),
	}
	if s.gen == lab.Bullseye510 {
		// As TestRunOn510InVM: the kernel's gcc-10 in the lab's root, as
		// the build user (the lab's headers are on the host too).
		opts.Toolchain = build.Toolchain{Mode: build.ToolchainRoot, Dir: s.lab.ToolchainRoot}
	}
	res, err := build.Run(t.Context(), opts)
	if err != nil {
		t.Logf("build of test-%s failed after %v: %v", name, time.Since(start).Round(time.Millisecond), err)
		return "", err
	}
	t.Logf("built %s in %v; warnings: %q", res.Module, time.Since(start).Round(time.Millisecond), res.Warnings)
	if s.warnings == nil {
		s.warnings = map[string][]string{}
	}
	s.warnings[opts.Name] = res.Warnings
	return res.Module, nil
}

// buildSingles builds every patch as its own module (subtests build/NAME):
// a *-FAIL patch must be refused, for the reason suiteRefusals gives.
func (s *hostSuite) buildSingles(t *testing.T, l *lab.Lab) {
	t.Helper()
	s.init(t, l)
	if s.singlesDone {
		return
	}
	s.singlesDone = true
	t.Run("build", func(t *testing.T) {
		for _, p := range suitePatches(t, s.dir) {
			t.Run(p.name, func(t *testing.T) {
				ko, err := s.build(t, p.name, suiteFuzz[p.name], p.path)
				if !p.mustFail() {
					require.NoError(t, err, "kpatch-test: %s must build", p.name)
					require.FileExists(t, ko)
					return
				}
				require.Error(t, err, "kpatch-test: %s must be refused", p.name)
				require.NoFileExists(t, filepath.Join(s.out, "test-"+p.name+".ko"))
				if check := suiteRefusals[p.name]; check != nil {
					check(t, err)
				}
			})
		}
	})
}

// buildCombined builds all non-FAIL patches, in glob order, as one module.
func (s *hostSuite) buildCombined(t *testing.T, l *lab.Lab) {
	t.Helper()
	s.init(t, l)
	t.Run("build/COMBINED", func(t *testing.T) {
		var patches []string
		fuzz := 0
		for _, p := range suitePatches(t, s.dir) {
			if !p.mustFail() {
				patches = append(patches, p.path)
				fuzz = max(fuzz, suiteFuzz[p.name])
			}
		}
		_, err := s.build(t, "COMBINED", fuzz, patches...)
		require.NoError(t, err, "kpatch-test: the combined module must build")
	})
}

// files stages the guest: busybox, bash, a sudo shim, the kpatch CLI, the
// suite's files, the modules built so far and the lab kernel's modules.
func (s *hostSuite) files(t *testing.T, l *lab.Lab) []vmtest.File {
	t.Helper()
	for _, tool := range []string{"/bin/busybox", "/bin/bash-static"} {
		if !fileExists(tool) {
			t.Fatalf("the guest needs %s: install busybox-static and bash-static (.ci/packages.txt)", tool)
		}
	}
	files := []vmtest.File{
		{Guest: "/bin/busybox", Host: "/bin/busybox", Mode: 0o755},
		{Guest: "/bin/bash", Host: "/bin/bash-static", Mode: 0o755},
		// Root already: sudo only runs its arguments.
		{Guest: "/bin/sudo", Data: []byte("#!/bin/sh\nexec \"$@\"\n"), Mode: 0o755},
		{Guest: suiteKpatch, Host: s.kpatch, Mode: 0o755},
		{Guest: suiteWorkDir + "/common/multiple.template", Host: s.template()},
	}
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "README.md" {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(e.Name(), ".test") {
			mode = 0o755
		}
		files = append(files, vmtest.File{Guest: s.guestDir() + "/" + e.Name(), Host: filepath.Join(s.dir, e.Name()), Mode: mode})
	}
	kos, err := filepath.Glob(filepath.Join(s.out, "test-*.ko"))
	require.NoError(t, err)
	for _, ko := range kos {
		files = append(files, vmtest.File{Guest: suiteWorkDir + "/" + filepath.Base(ko), Host: ko})
	}
	mods, err := l.ModuleFiles()
	require.NoError(t, err)
	for _, m := range mods {
		files = append(files, vmtest.File{Guest: "/lib/modules/" + filepath.ToSlash(m), Host: filepath.Join(l.ModulesDir, m)})
	}
	return files
}

// guestDir is the suite's directory in the guest, named as in kpatch's
// tree.
func (s *hostSuite) guestDir() string {
	if s.gen == lab.Bullseye510 {
		return suiteWorkDir + "/" + lab.KpatchSuite510Name
	}
	return suiteDir
}

// template is the common/multiple.template that multiple.test sources:
// inside the 6.2 suite's directory in ../shared, beside the 5.10.11
// suite's in the lab (as in kpatch's tree).
func (s *hostSuite) template() string {
	if s.gen == lab.Bullseye510 {
		return filepath.Join(s.dir, "..", "common", "multiple.template")
	}
	return filepath.Join(s.dir, "common", "multiple.template")
}

// suiteCacheDir is the object cache the suite's test and benchmark share
// between runs: keyed by kernel, config, compiler, command line and source,
// it never serves an object of another tree.
func suiteCacheDir(l *lab.Lab) string {
	return filepath.Join(l.Dir, l.KernelRelease, "cache", "kpatch-suite")
}

// errNotBuilt marks a module the host did not build.
var errNotBuilt = errors.New("module not built (see the host's build subtest)")
