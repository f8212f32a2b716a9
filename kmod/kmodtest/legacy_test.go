// SPDX-License-Identifier: Apache-2.0

package kmodtest_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPre51Model pins which releases get the pre-5.1 model and what it
// changes: Photon 3.0's 4.19 (every flavor) and 5.0 have no atomic replace
// (a module asking for it stacks), keep a disabled patch registered, and
// refuse to disable a patch below an enabled one; 5.1 and later do none
// of that.
func TestPre51Model(t *testing.T) {
	for _, tc := range []struct {
		release string
		legacy  bool
	}{
		{"4.19.325-1.ph3", true},
		{"4.19.325-1.ph3-aws", true},
		{"4.19.247-rt108-10.ph3-rt", true},
		{"5.0.21", true},
		{"5.1.0", false},
		{"5.10.118-3.ph4", false},
		{"6.1.138-2.ph5", false},
	} {
		t.Run(tc.release, func(t *testing.T) {
			vermagic := tc.release + " SMP mod_unload modversions "
			k := kmodtest.New(t, &kmodtest.Config{Release: tc.release, Vermagic: vermagic})
			dir := func(name string) string { return filepath.Join(k.Root, "sys/kernel/livepatch", name) }
			settled := func(name string) {
				t.Helper()
				require.Eventually(t, func() bool {
					b, err := os.ReadFile(filepath.Join(dir(name), "transition"))
					return os.IsNotExist(err) || string(b) == "0\n"
				}, 5*time.Second, time.Millisecond)
			}
			load := func(name string, replace bool) {
				t.Helper()
				k.SetPatch(name, kmodtest.Patch{Replace: replace})
				require.NoError(t, k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: vermagic}), ""))
				settled(name)
			}

			load("p1", false)
			load("p2", false)
			err := k.WriteAttr(filepath.Join(dir("p1"), "enabled"), "0")
			if tc.legacy {
				assert.Equal(t, syscall.EBUSY, err, "p1 lies below the enabled p2")
				assert.Len(t, k.Rejected(), 1)
			} else {
				require.NoError(t, err, "any patch may be disabled")
				settled("p1")
				assert.NoDirExists(t, dir("p1"), "a disabled patch is freed")
				require.NoError(t, k.DeleteModule("p1", 0))
			}

			load("cum", true)
			if tc.legacy {
				assert.Equal(t, []string{"p1", "p2", "cum"}, k.Patches(), "no atomic replace: it stacks")
			} else {
				assert.Equal(t, []string{"cum"}, k.Patches(), "it replaced the others")
			}

			require.NoError(t, k.WriteAttr(filepath.Join(dir("cum"), "enabled"), "0"))
			settled("cum")
			if tc.legacy {
				assert.DirExists(t, dir("cum"), "a disabled patch stays registered until its module goes")
				assert.Equal(t, syscall.EBUSY, k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "p4", Livepatch: true, Vermagic: vermagic}), ""),
					"no new patch above a disabled one")
			} else {
				assert.NoDirExists(t, dir("cum"))
			}
		})
	}
}
