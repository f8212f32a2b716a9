// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// BenchmarkColdPhotonBuild measures what a Photon administrator waits for:
// auto_livepatch -k <lab uname> -p <patch> --rpm from the loopback lab
// repository, with an empty cache and work directory (download, verify,
// prepare, compile, link, package), for
//
//   - "function": a one-function patch; Module.symvers from the devel RPM;
//   - "header": a patch that changes fs/proc/internal.h (a header about
//     twenty units include), its users found in the debug information;
//   - "full-build": the one-function patch from a repository without the
//     devel RPM, so the kernel is built in full first: the baseline.
//
// Each iteration reports its seconds and the peak RSS of auto_livepatch
// and of its largest child (compiler, make). scripts/bench prints the
// ratios. Needs the Photon lab (make lab-photon) and KLPKIT_VMTEST=1.
func BenchmarkColdPhotonBuild(b *testing.B) {
	l := vmtest.RequireLab(b)
	pl := labtest.RequirePhoton(b, l)
	root, err := filepath.Abs("../../..")
	if err != nil {
		b.Fatal(err)
	}
	autoLivepatch := vmtest.BuildStatic(b, root, "./examples/auto_livepatch", filepath.Join(b.TempDir(), "auto_livepatch"))
	k, err := pl.Kernel()
	if err != nil {
		b.Fatal(err)
	}
	full := http.FileServer(http.Dir(pl.RepoDir))
	noDevel := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/"+kernelsrc.DevelPackage.RepoPath(k.Release())) {
			http.NotFound(w, r)
			return
		}
		full.ServeHTTP(w, r)
	})
	for _, c := range []struct {
		name, patch string
		repo        http.Handler
	}{
		{"function", "v1-proc-version.patch", full},
		{"header", "v2-proc-version-cmdline.patch", full},
		{"full-build", "v1-proc-version.patch", noDevel},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.repo)
			defer srv.Close()
			var peak, peakChild int64
			for b.Loop() {
				// As root the kernel tree is built by an unprivileged user,
				// who cannot pass b.TempDir()'s 0700 parent.
				work, err := os.MkdirTemp("", "klpkit-bench-work-")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { os.RemoveAll(work) })
				if err := os.Chmod(work, 0o755); err != nil {
					b.Fatal(err)
				}
				cmd := exec.CommandContext(b.Context(), autoLivepatch, "-k", pl.KernelRelease,
					"-p", filepath.Join(root, "testdata/photonlab/livepatch", c.patch), "-n", "klp_bench", "--rpm",
					"-o", b.TempDir(), "--mirror", srv.URL, "--cache", b.TempDir(), "--work", work,
					"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12")
				var log bytes.Buffer
				cmd.Stdout, cmd.Stderr = &log, &log
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("auto_livepatch %s: %v\n%s", c.patch, err, log.String())
				}
				b.Logf("%s: %s", c.name, time.Since(start).Round(100*time.Millisecond))
				if got := strings.Contains(log.String(), "vmlinux modules"); got != (c.name == "full-build") {
					b.Fatalf("%s: full kernel build %t, want %t:\n%s", c.name, got, c.name == "full-build", log.String())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss)
				}
			}
			var children syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err == nil {
				peakChild = children.Maxrss
			}
			b.ReportMetric(float64(peak)/1024, "MB-peak")
			b.ReportMetric(float64(peakChild)/1024, "MB-peak-child")
		})
	}
}
