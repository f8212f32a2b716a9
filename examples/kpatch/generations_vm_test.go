// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
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
		release, err := os.ReadFile("/proc/sys/kernel/osrelease")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(release), "5.10."), "guest kernel %q", release)
		t.Run("basics", cliGuest)
		t.Run("scenarios", cliScenariosGuest)
	})
}
