// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// BenchmarkRunLab measures patch to .ko for a one-function patch on the
// lab kernel (needs `make lab` and KLPKIT_VMTEST=1, as `make test` sets).
// "cold" starts with an empty object cache and work dir (the tree is
// prepared and kbuild's record of the object exists); "warm" reuses the
// cached original object. Peak RSS of the build's children (compiler,
// kbuild) and of the test process are reported as metrics.
func BenchmarkRunLab(b *testing.B) {
	l := vmtest.RequireLab(b)
	if l.SourceDir == "" {
		b.Skip("the lab has no source tree (make lab)")
	}
	tree := &build.Tree{Release: l.KernelRelease, Dir: l.SourceDir, KbuildDir: l.HeadersDir, Config: l.Config, Vmlinux: l.Vmlinux, MakeArgs: labMakeArgs(l.KernelRelease)}
	patch := filepath.Join(patchDir, "meminfo-new-function.patch")
	run := func(b *testing.B, cache string) {
		b.Helper()
		if _, err := build.Run(b.Context(), build.Options{Source: tree, Patches: []string{patch}, OutputDir: b.TempDir(), CacheDir: cache}); err != nil {
			b.Fatal(err)
		}
	}
	// "first": nothing built yet for the object, so kbuild runs once to
	// record its command (fs/proc/softirqs.o, which no test builds).
	b.Run("first", func(b *testing.B) {
		first := filepath.Join(b.TempDir(), "softirqs.patch")
		if err := os.WriteFile(first, []byte(softirqsPatch), 0o644); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			for _, f := range []string{"fs/proc/.softirqs.o.cmd", "fs/proc/softirqs.o"} {
				os.Remove(filepath.Join(l.SourceDir, f))
			}
			b.StartTimer()
			if _, err := build.Run(b.Context(), build.Options{Source: tree, Patches: []string{first}, OutputDir: b.TempDir(), CacheDir: b.TempDir()}); err != nil {
				b.Fatal(err)
			}
		}
		reportRSS(b)
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			run(b, b.TempDir())
		}
		reportRSS(b)
	})
	// The baseline: one `make fs/proc/meminfo.o` through kbuild with the
	// section flags, the least a kbuild-driven tool (kpatch-build) spends
	// per touched object and side.
	b.Run("baseline-kbuild-object", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			os.Remove(filepath.Join(l.SourceDir, "fs/proc/meminfo.o"))
			b.StartTimer()
			args := append([]string{"-C", l.SourceDir, "-s", "KCFLAGS=-ffunction-sections -fdata-sections"}, tree.MakeArgs...)
			cmd := exec.CommandContext(b.Context(), "make", append(args, "fs/proc/meminfo.o")...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("make fs/proc/meminfo.o: %v\n%s", err, out)
			}
		}
		reportRSS(b)
	})
	// "header-cold": a change to an inline of include/linux/time_namespace.h
	// from an empty cache; its users come from the kernel's debug
	// information, and only they are compiled (no full build). Its baseline
	// is kbuild making those same objects (-j as the build's jobs), the
	// least any kbuild-driven tool spends on them.
	var users []string
	header := filepath.Join(patchDir, "header-inline.patch")
	b.Run("header-cold", func(b *testing.B) {
		for b.Loop() {
			res, err := build.Run(b.Context(), build.Options{Source: tree, Patches: []string{header}, OutputDir: b.TempDir(),
				CacheDir: b.TempDir(), PartialHeaderUsers: true})
			if err != nil {
				b.Fatal(err)
			}
			users = users[:0]
			for _, o := range res.Objects {
				users = append(users, o.Path)
			}
		}
		b.ReportMetric(float64(len(users)), "units")
		reportRSS(b)
	})
	b.Run("baseline-kbuild-header-users", func(b *testing.B) {
		if len(users) == 0 {
			b.Fatal("header-cold compiled no units")
		}
		for b.Loop() {
			b.StopTimer()
			for _, u := range users {
				os.Remove(filepath.Join(l.SourceDir, u))
			}
			b.StartTimer()
			args := append([]string{"-C", l.SourceDir, "-s", "-j" + strconv.Itoa(runtime.NumCPU()), "KCFLAGS=-ffunction-sections -fdata-sections"}, tree.MakeArgs...)
			cmd := exec.CommandContext(b.Context(), "make", append(args, users...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("make %d header users: %v\n%s", len(users), err, out)
			}
		}
		b.ReportMetric(float64(len(users)), "units")
		reportRSS(b)
	})
	b.Run("warm", func(b *testing.B) {
		cache := b.TempDir()
		run(b, cache)
		b.ResetTimer()
		for b.Loop() {
			run(b, cache)
		}
		reportRSS(b)
	})
}

const softirqsPatch = `--- a/fs/proc/softirqs.c
+++ b/fs/proc/softirqs.c
@@ -12,7 +12,7 @@
 {
 	int i, j;
 
-	seq_puts(p, "                    ");
+	seq_puts(p, "              klpkit");
 	for_each_possible_cpu(i)
 		seq_printf(p, "CPU%-8d", i);
 	seq_putc(p, '\n');
`

func reportRSS(b *testing.B) {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) == nil && syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) == nil {
		b.ReportMetric(float64(self.Maxrss)/1024, "MB-peak-self")
		b.ReportMetric(float64(children.Maxrss)/1024, "MB-peak-child")
	}
}
