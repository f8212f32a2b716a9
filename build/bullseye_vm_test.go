// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// casesOn returns the cases that run on generation g: all but those
// specific to another kernel.
func casesOn(g lab.Generation, cases ...[]vmCase) []vmCase {
	var out []vmCase
	for _, list := range cases {
		for _, c := range list {
			if c.only == "" || c.only == g {
				out = append(out, c)
			}
		}
	}
	return out
}

// TestRunOn510InVM proves build.Run on the second lab generation: every
// case of TestPatchesInVM and TestMacrosInVM that is not specific to 6.1,
// built against Debian bullseye's 5.10 kernel as the build user with the
// compile and link steps inside the lab's toolchain root (bullseye's
// gcc-10, which the host lacks; each module's .comment names it), then
// proven in one boot of that kernel, a subtest per case. Only the first
// link runs make: the others replay kbuild's commands (replayLinks).
func TestRunOn510InVM(t *testing.T) {
	cases := casesOn(lab.Bullseye510, vmCases, macroCases)
	macros := map[string]bool{}
	for _, c := range macroCases {
		macros[c.name] = true
	}
	kos := make([][]string, len(cases))
	for i, c := range cases {
		require.Empty(t, c.append, "case %s: one boot has one command line", c.name)
		for j := range c.modules {
			kos[i] = append(kos[i], fmt.Sprintf("/klp/%s-%d.ko", c.name, j))
		}
	}
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510,
		Timeout:    8 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			if os.Geteuid() != 0 {
				t.Fatal("building inside the 5.10 lab's toolchain root needs root (mount namespace and chroot)")
			}
			start := time.Now()
			var files []vmtest.File
			cache := t.TempDir() // original objects, shared by all cases: one boot, one build of each
			for i, c := range cases {
				tree := labTree(t, l)
				if c.extra != nil {
					files = append(files, c.extra(t, l, tree)...)
				}
				for j, m := range c.modules {
					m.cache, m.lab, m.replayLinks = cache, l, true
					ko := buildModule(t, tree, fmt.Sprintf("klpkit-%s-%d", c.name, j), m)
					requireGCC10(t, l, ko)
					if macros[c.name] {
						requireNoMarkerSections(t, ko)
					}
					files = append(files, vmtest.File{Guest: kos[i][j], Host: ko})
				}
			}
			t.Logf("built %d cases for %s in %s", len(cases), l.KernelRelease, time.Since(start).Round(time.Second))
			return files
		},
	}, func(t *testing.T) {
		labtest.RequireGuestRelease(t, "5.10.")
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.guest(t, kos[i]) })
		}
	})
}

// requireGCC10 checks that the compiler the 5.10 kernel's config names,
// bullseye's gcc-10, compiled the module.
func requireGCC10(t *testing.T, l *lab.Lab, ko string) {
	t.Helper()
	cc, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	want, ok := strings.CutPrefix(cc, "gcc-10 ")
	require.True(t, ok, "the 5.10 kernel's compiler: %q", cc)
	require.NoError(t, lab.CheckBuiltBy(ko, want))
}
