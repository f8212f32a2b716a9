// SPDX-License-Identifier: Apache-2.0

//go:build linux

package vmtest_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestConfigKernelBootsTheChosenKernel boots the lab kernel through
// Config.Kernel and checks in the guest that the kernel the host chose is the
// one running (its release travels in a file).
func TestConfigKernelBootsTheChosenKernel(t *testing.T) {
	chosen := ""
	vmtest.Run(t, vmtest.Config{
		Kernel: func(t *testing.T, l *lab.Lab) string {
			chosen = l.Vmlinuz
			return l.Vmlinuz
		},
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			return []vmtest.File{{Guest: "/want-release", Data: []byte(l.KernelRelease)}}
		},
	}, func(t *testing.T) {
		want, err := os.ReadFile("/want-release")
		require.NoError(t, err)
		var u unix.Utsname
		require.NoError(t, unix.Uname(&u))
		require.Equal(t, string(want), unix.ByteSliceToString(u.Release[:]))
	})
	require.NotEmpty(t, chosen, "the KernelFunc never ran on the host")
}

func TestConfigKernelWithoutImage(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{Kernel: func(t *testing.T, l *lab.Lab) string { return "" }}, func(t *testing.T) {})
	require.ErrorContains(t, err, "no kernel image")
}
