package vmtest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/vmtest"
)

// TestRunKernelBootsTheChosenKernel boots the lab kernel through a
// KernelFunc and checks in the guest that the kernel the host chose is the
// one running (its release travels in a file).
func TestRunKernelBootsTheChosenKernel(t *testing.T) {
	chosen := ""
	vmtest.RunKernel(t, func(t *testing.T, l *lab.Lab) string {
		chosen = l.Vmlinuz
		return l.Vmlinuz
	}, vmtest.Config{
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

func TestTryKernelNeedsAKernelFunc(t *testing.T) {
	if vmtest.InGuest() {
		t.Skip("host-only test")
	}
	err := vmtest.TryKernel(t, nil, vmtest.Config{}, func(t *testing.T) {})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "KernelFunc"), err.Error())
}

func TestTryKernelWithoutImage(t *testing.T) {
	err := vmtest.TryKernel(t, func(t *testing.T, l *lab.Lab) string { return "" }, vmtest.Config{}, func(t *testing.T) {})
	require.ErrorContains(t, err, "no kernel image")
}
