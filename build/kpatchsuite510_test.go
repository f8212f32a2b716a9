// SPDX-License-Identifier: Apache-2.0

package build_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// suite510Outcome is what kpatch's 5.10.11 integration suite gives one
// patch against the 5.10 lab kernel (Debian bullseye's 5.10.262).
type suite510Outcome string

const (
	// passes: applies (with the row's fuzz, zero unless said), builds, and
	// in the guest its checks fail before load, pass while loaded and fail
	// after unload (or, without a check, it loads and unloads), with a
	// clean dmesg.
	outcomePasses suite510Outcome = "passes"
	// refused: a *-FAIL patch, refused for the reason the row gives.
	outcomeRefused suite510Outcome = "refused"
	// noLoad: builds, but the module does not load in the guest: its
	// load fails with the row's loadError in dmesg.
	outcomeNoLoad suite510Outcome = "builds, does not load"
	// noApply: the patch does not apply to the lab's source, even with GNU
	// patch's default fuzz (2), which kpatch-build uses: no module.
	outcomeNoApply suite510Outcome = "does not apply"
)

// suite510Row is one row of the README's 5.10.11 table.
type suite510Row struct {
	patch   string
	applies string // how it applies to the lab's source
	// fuzz, when above GNU patch's default (2), is an adaptation: the
	// patch must not apply at fuzz 0 or 2, and applies with this fuzz.
	fuzz    int
	outcome suite510Outcome
	note    string
	// loadError is the kernel's complaint when outcome is noLoad.
	loadError string
}

// suite510 is the expected result of every patch of the suite, in glob
// order: the README's table (TestKpatchSuite510README) and what
// TestKpatchIntegration510InVM requires.
var suite510 = []suite510Row{
	{"data-new", "cleanly", 0, outcomePasses, "data-new-LOADED.test (a new static variable, read in /proc/meminfo)", ""},
	{"gcc-static-local-var-6", "cleanly", 0, outcomePasses, "no check: loads and unloads (net/ipv6/netfilter.c)", ""},
	{"macro-callbacks", "offset 3", 0, outcomePasses, "no check; its callbacks' lines for vmlinux, joydev and pcspkr are in dmesg", ""},
	{"module-call-external", "only with fuzz 3 (fs/nfsd/export.c hunk 2)", 3, outcomePasses,
		"adapted: 5.10.262's e_show() prints another header for the export stats file (a stable backport), so the hunk's context is gone and neither klpkit nor GNU patch at fuzz 2 (kpatch-build's) applies it; with fuzz 3 its line lands after \"# Version 1.1\", in the same header branch (checked by hand). No check in the suite; the test's own: the patched e_show calls kpatch_string (new in vmlinux's af_netlink.o) and sunrpc's export cache_check, a klp relocation in .klp.rela.nfsd against .klp.sym.sunrpc.cache_check,0 as kpatch makes it. The module loads while neither nfsd nor sunrpc is loaded; then nfsd loads (sunrpc first) and its /proc/fs/nfs/exports prints \"# kpatch\" after \"# Version 1.1\" until kpatch unload. The lab keeps nfsd.ko and its dependencies for the build and the guest",
		""},
	{"new-function", "offset 54", 0, outcomePasses, "no check: loads and unloads (drivers/tty/n_tty.c)", ""},
	{"new-globals", "cleanly", 0, outcomePasses, "no check: a new global defined in fs/proc/cmdline.c, used by fs/proc/meminfo.c", ""},
	{"syscall", "offset 11", 0, outcomePasses, "syscall-LOADED.test (uname -s)", ""},
	{"warn-detect-FAIL", "cleanly", 0, outcomeRefused, "refused as \"only line numbers moved\" (a blank line atop net/core/dev.c)", ""},
}

// suite510Combined: test-COMBINED (every patch that passes, in one module,
// applied with the highest fuzz of those rows) passes both LOADED checks,
// and multiple.test (the single modules of the LOADED checks stacked)
// passes.
const suite510Combined = "test-COMBINED (the seven that pass, in one module) passes data-new-LOADED.test and syscall-LOADED.test; multiple.test passes"

// suite510Table renders suite510 as the README's Markdown table.
func suite510Table() string {
	var b strings.Builder
	b.WriteString("| Patch | Applies | Result | Notes |\n|---|---|---|---|\n")
	for _, r := range suite510 {
		b.WriteString("| `" + r.patch + "` | " + r.applies + " | " + string(r.outcome) + " | " + r.note + " |\n")
	}
	return b.String()
}

// TestKpatchSuite510README: the README's table of the 5.10.11 suite is
// the one the VM test requires.
func TestKpatchSuite510README(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(data)
	require.Contains(t, readme, suite510Table(), "README.md's kpatch 5.10.11 table differs from suite510 (build/kpatchsuite510_test.go); the table to put there:\n%s", suite510Table())
	require.Contains(t, readme, suite510Combined)
	names := map[string]bool{}
	for _, r := range suite510 {
		require.False(t, names[r.patch], "%s twice", r.patch)
		names[r.patch] = true
		require.Equal(t, strings.HasSuffix(r.patch, "-FAIL"), r.outcome == outcomeRefused, "%s: only -FAIL patches are refused", r.patch)
	}
	require.Len(t, suite510, 8, "kpatch's linux-5.10.11 suite has 8 patches")
}
