// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestCLIOn510InVM runs TestCLIInVM's and TestCLIScenariosInVM's guests
// on the second lab generation, Debian bullseye's 5.10 (modules built with
// its gcc-10 in the lab's toolchain root), in one boot.
func TestCLIOn510InVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510,
		Timeout:    4 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			return append(cliSample(t, l), cliModules(t, l)...)
		},
	}, func(t *testing.T) {
		labtest.RequireGuestRelease(t, "5.10.")
		t.Run("basics", cliGuest)
		t.Run("scenarios", cliScenariosGuest)
	})
}
