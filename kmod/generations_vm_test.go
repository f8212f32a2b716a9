// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

import (
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestKmodOn510InVM runs TestLoadListUnloadInVM's and
// TestPatchScenariosInVM's guests on the second lab generation, Debian
// bullseye's 5.10 (modules built with its gcc-10 in the lab's toolchain
// root), in one boot: load, list, unload, compressed modules, cumulative
// replace (5.10 has atomic replace), stacking, retiring and a stalled
// transition.
func TestKmodOn510InVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510,
		Timeout:    4 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			return append(vmSample(t, l), vmModules(t, l)...)
		},
	}, func(t *testing.T) {
		labtest.RequireGuestRelease(t, "5.10.")
		// 5.10 has no /sys/kernel/livepatch/<patch>/<object>/patched.
		t.Run("load list unload", func(t *testing.T) { loadListUnload(t, false) })
		t.Run("scenarios", patchScenarios)
	})
}
