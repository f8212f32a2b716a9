// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// The guest side of TestKpatchIntegrationInVM.

// kernelTrouble is what a clean kernel log never holds: kpatch-test looks
// for "Call Trace"; a BUG, Oops or WARNING is as bad.
var kernelTrouble = regexp.MustCompile(`Call Trace|\bBUG\b|\bOops\b|\bWARNING\b`)

// guestSingles checks every non-FAIL patch on its own, as kpatch-test's
// run_load_test does, each as its own subtest.
func guestSingles(t *testing.T) {
	g := setupSuiteGuest(t, suiteDir)
	for _, p := range g.patches {
		if p.mustFail() {
			continue // refused on the host: there is no module
		}
		t.Run(p.name, func(t *testing.T) {
			g.loadTest(t, "test-"+p.name+".ko", p.name, loadedTests(p))
		})
	}
}

// guestCombined checks test-COMBINED.ko against every LOADED test (kpatch-
// test's run_combined_test), then runs multiple.test, which stacks the
// single modules.
func guestCombined(t *testing.T) {
	g := setupSuiteGuest(t, suiteDir)
	g.combined(t)
}

// combined runs the combined module's checks and multiple.test.
func (g *suiteGuest) combined(t *testing.T) {
	t.Run("COMBINED", func(t *testing.T) {
		var tests []string
		for _, p := range g.patches {
			if p.test != "" {
				tests = append(tests, p.test)
			}
		}
		require.NotEmpty(t, tests)
		g.loadTest(t, "test-COMBINED.ko", "COMBINED", tests)
	})
	t.Run("multiple", func(t *testing.T) {
		mark := g.markDmesg(t, "multiple")
		out, err := g.run(t, g.dir+"/multiple.test")
		require.NoError(t, err, "multiple.test:\n%s", out)
		g.requireCleanDmesg(t, mark)
	})
}

func loadedTests(p suitePatch) []string {
	if p.test == "" {
		return nil
	}
	return []string{p.test}
}

type suiteGuest struct {
	dir     string // the suite's directory in the guest
	patches []suitePatch
}

// setupSuiteGuest makes the guest look like the machine kpatch-test runs
// on: busybox's tools in their usual places (modprobe in /sbin, where the
// kernel's request_module looks), a modules.dep for the lab's modules,
// debugfs for dynamic debug, joydev and pcspkr loaded (macro-callbacks
// patches them), and klp_try_switch_task's debug messages on, as
// kpatch-test turns them on. dir is the suite's directory.
func setupSuiteGuest(t *testing.T, dir string) *suiteGuest {
	t.Helper()
	for _, d := range []string{"/sbin", "/usr/bin", "/usr/sbin", "/run", "/etc"} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	out, err := exec.Command("/bin/busybox", "--install", "-s").CombinedOutput()
	require.NoError(t, err, "busybox --install: %s", out)
	require.NoError(t, unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, ""), "mount debugfs")
	for _, args := range [][]string{{"depmod"}, {"modprobe", "joydev"}, {"modprobe", "pcspkr"}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", args, out)
	}
	require.NoError(t, os.WriteFile("/sys/kernel/debug/dynamic_debug/control", []byte("func klp_try_switch_task +p\n"), 0))
	return &suiteGuest{dir: dir, patches: suitePatches(t, dir)}
}

// loadTest is kpatch-test's load test of one module: each test fails
// before `kpatch load`, passes while the module is loaded and fails after
// `kpatch unload`; and the kernel log stays clean.
func (g *suiteGuest) loadTest(t *testing.T, module, name string, tests []string) {
	ko := filepath.Join(suiteWorkDir, module)
	if !fileExists(ko) {
		t.Fatalf("%s: %v", module, errNotBuilt)
	}
	mark := g.markDmesg(t, name)
	for _, test := range tests {
		out, err := g.run(t, test)
		require.Error(t, err, "%s succeeded before kpatch load:\n%s", filepath.Base(test), out)
	}
	out, err := g.run(t, suiteKpatch, "load", module)
	require.NoError(t, err, "kpatch load %s:\n%s", module, out)
	for _, test := range tests {
		out, err := g.run(t, test)
		require.NoError(t, err, "%s failed after kpatch load:\n%s", filepath.Base(test), out)
	}
	g.requireDmesg(t, mark, suiteDmesg[name].loaded)
	out, err = g.run(t, suiteKpatch, "unload", module)
	require.NoError(t, err, "kpatch unload %s:\n%s", module, out)
	require.NoDirExists(t, "/sys/module/"+strings.ReplaceAll(strings.TrimSuffix(module, ".ko"), "-", "_"))
	for _, test := range tests {
		out, err := g.run(t, test)
		require.Error(t, err, "%s succeeded after kpatch unload:\n%s", filepath.Base(test), out)
	}
	g.requireDmesg(t, mark, suiteDmesg[name].unloaded)
	g.requireCleanDmesg(t, mark)
}

// run runs a program in the suite's working directory, where the modules
// are, and returns its combined output.
func (g *suiteGuest) run(t *testing.T, prog string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = suiteWorkDir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %v in %v\n%s", filepath.Base(prog), strings.Join(args, " "), errOrOK(err), time.Since(start).Round(10*time.Millisecond), out)
	return string(out), err
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// markDmesg writes a unique line to the kernel log and returns it: the
// log after it belongs to one check.
func (g *suiteGuest) markDmesg(t *testing.T, name string) string {
	t.Helper()
	mark := fmt.Sprintf("kpatch-suite: begin %s %d", name, time.Now().UnixNano())
	require.NoError(t, os.WriteFile("/dev/kmsg", []byte(mark+"\n"), 0))
	return mark
}

// dmesgSince returns the kernel log after mark; the mark must still be
// there (a log that wrapped would hide what happened).
func (g *suiteGuest) dmesgSince(t *testing.T, mark string) string {
	t.Helper()
	log, err := vmtest.Dmesg()
	require.NoError(t, err)
	i := strings.LastIndex(log, mark)
	require.GreaterOrEqual(t, i, 0, "the kernel log lost the mark %q (log buffer too small?)", mark)
	return log[i+len(mark):]
}

func (g *suiteGuest) requireDmesg(t *testing.T, mark string, want []string) {
	t.Helper()
	if len(want) == 0 {
		return
	}
	log := g.dmesgSince(t, mark)
	for _, w := range want {
		require.Contains(t, log, w, "kernel log since the check began:\n%s", log)
	}
}

func (g *suiteGuest) requireCleanDmesg(t *testing.T, mark string) {
	t.Helper()
	log := g.dmesgSince(t, mark)
	require.False(t, kernelTrouble.MatchString(log), "kernel log since the check began holds %q:\n%s", kernelTrouble.FindString(log), log)
}
