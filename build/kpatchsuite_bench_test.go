// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/testcorpus"
)

// BenchmarkKpatchSuite measures patch to .ko for each must-build patch of
// kpatch's integration suite on the lab kernel (needs `make lab` and
// KLPKIT_VMTEST=1; scripts/bench prints the figures as ratios). Per patch:
// "baseline-kbuild-object" is one kbuild `make` of the objects the patch
// touches (one run for all of them, with the section flags: the least
// kpatch-build spends per side), "floor" just the compiles a warm build
// cannot avoid (the patched objects, kbuild's commands, Jobs at a time:
// build.CompileFloor), "first" a build with an empty object cache, "warm"
// one with the cache the previous build filled. warm/floor is klpkit's own
// overhead, and holds up better than warm/kbuild on a loaded machine.
func BenchmarkKpatchSuite(b *testing.B) {
	l := vmtest.RequireLab(b)
	if l.SourceDir == "" {
		b.Skip("the lab has no source tree (make lab)")
	}
	dir := testcorpus.KpatchIntegration(b)
	tree := &build.Tree{Release: l.KernelRelease, Dir: l.SourceDir, KbuildDir: l.HeadersDir, Config: l.Config,
		Vmlinux: l.Vmlinux, ModulesDir: l.ModulesDir, MakeArgs: labMakeArgs(l.KernelRelease)}
	patches, _ := filepath.Glob(filepath.Join(dir, "*.patch"))
	sort.Strings(patches)
	for _, patch := range patches {
		name := strings.TrimSuffix(filepath.Base(patch), ".patch")
		if strings.HasSuffix(name, "-FAIL") {
			continue
		}
		objects, err := patchObjects(patch)
		if err != nil {
			b.Fatal(err)
		}
		options := func(b *testing.B, cache string) build.Options {
			return build.Options{Source: tree, Patches: []string{patch}, Name: "test-" + name, OutputDir: b.TempDir(), CacheDir: cache, Fuzz: suiteFuzz[name]}
		}
		run := func(b *testing.B, cache string) {
			b.Helper()
			if _, err := build.Run(b.Context(), options(b, cache)); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
		}
		b.Run(name+"/baseline-kbuild-object", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				for _, o := range objects {
					os.Remove(filepath.Join(l.SourceDir, o))
				}
				b.StartTimer()
				args := append([]string{"-C", l.SourceDir, "-s", "KCFLAGS=-ffunction-sections -fdata-sections"}, tree.MakeArgs...)
				cmd := exec.CommandContext(b.Context(), "make", append(args, objects...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("make %s: %v\n%s", strings.Join(objects, " "), err, out)
				}
			}
		})
		b.Run(name+"/floor", func(b *testing.B) {
			compile, cleanup, err := build.CompileFloor(b.Context(), options(b, b.TempDir()))
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			defer cleanup()
			for b.Loop() {
				if err := compile(b.Context()); err != nil {
					b.Fatalf("%s: %v", name, err)
				}
			}
		})
		b.Run(name+"/first", func(b *testing.B) {
			for b.Loop() {
				run(b, b.TempDir())
			}
		})
		b.Run(name+"/warm", func(b *testing.B) {
			cache := b.TempDir()
			run(b, cache)
			b.ResetTimer()
			for b.Loop() {
				run(b, cache)
			}
		})
	}
}

// patchObjects returns the objects of the C files a patch changes
// (fs/proc/meminfo.c -> fs/proc/meminfo.o), in patch order.
func patchObjects(patch string) ([]string, error) {
	f, err := os.Open(patch)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "+++ ")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		path := fields[0]
		if _, p, ok := strings.Cut(path, "/"); ok {
			path = p // b/fs/... or src/fs/...
		}
		if obj, ok := strings.CutSuffix(path, ".c"); ok && !seen[obj] {
			seen[obj] = true
			out = append(out, obj+".o")
		}
	}
	return out, sc.Err()
}
