// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"os"
	"testing"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// onEachLab runs f as a subtest per lab kernel generation (lab.Generations:
// 6.1 with the host's gcc-12, 5.10 in its lab's gcc-10 toolchain root),
// named by the generation, for lab tests of the build pipeline that are
// not specific to one kernel. Builds for l go through labToolchain(l) and
// the patches through labPatch(l, …).
func onEachLab(t *testing.T, f func(t *testing.T, l *lab.Lab)) {
	t.Helper()
	for _, g := range lab.Generations {
		t.Run(string(g), func(t *testing.T) {
			l := vmtest.RequireLabGeneration(t, g)
			if l.ToolchainRoot != "" && os.Geteuid() != 0 {
				const why = "building inside the lab's toolchain root needs root (mount namespace and chroot)"
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s lab: %s", g, why)
				}
				t.Skipf("%s lab: %s", g, why)
			}
			f(t, l)
		})
	}
}
