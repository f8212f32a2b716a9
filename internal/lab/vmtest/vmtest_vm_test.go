// SPDX-License-Identifier: Apache-2.0

//go:build linux

package vmtest_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestGuestRunsAsInit checks the guest environment a VM test gets: PID 1,
// the mounts, and the files the host passed.
func TestGuestRunsAsInit(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Files: []vmtest.File{{Guest: "/data/hello.txt", Data: []byte("hello from the host\n")}},
	}, func(t *testing.T) {
		require.Equal(t, 1, os.Getpid())
		data, err := os.ReadFile("/data/hello.txt")
		require.NoError(t, err)
		require.Equal(t, "hello from the host\n", string(data))
		for _, p := range []string{"/proc/self/status", "/sys/kernel", "/dev/port", "/dev/null", "/tmp"} {
			_, err := os.Stat(p)
			require.NoError(t, err)
		}
		require.DirExists(t, "/sys/kernel/livepatch", "lab kernel without CONFIG_LIVEPATCH")
		t.Log("guest is PID 1 with /proc, /sys and /dev mounted")
	})
}

// The next three tests boot deliberately broken guests and check that the
// harness names what went wrong and shows the serial log.

func TestGuestFailureIsReported(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{}, func(t *testing.T) {
		t.Errorf("deliberate failure: want %d, got %d", 1, 2)
	})
	be := requireBootError(t, err, vmtest.ErrGuestFailed)
	require.Contains(t, be.Serial, "deliberate failure: want 1, got 2")
	require.Contains(t, be.Serial, "vmtest: dmesg:", "dmesg missing on failure")
	require.Contains(t, err.Error(), "guest test failed")
	require.Contains(t, err.Error(), "deliberate failure", "error must carry the serial tail")
}

func TestGuestKernelPanicIsReported(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{}, func(t *testing.T) {
		t.Log("crashing the kernel on purpose")
		require.NoError(t, os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0))
		t.Error("still alive after sysrq-c")
	})
	be := requireBootError(t, err, vmtest.ErrKernelPanic)
	require.Contains(t, be.Detail, "Kernel panic - not syncing")
	require.Contains(t, err.Error(), "sysrq", "error must carry the serial tail")
}

func TestGuestHangIsReported(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{Timeout: 25 * time.Second}, func(t *testing.T) {
		t.Log("hanging on purpose")
		time.Sleep(time.Hour) // (select{} would be caught by Go's deadlock detector)
	})
	be := requireBootError(t, err, vmtest.ErrTimeout)
	require.Contains(t, err.Error(), "hanging on purpose", "error must carry the serial tail")
	require.Greater(t, be.Duration, 20*time.Second, "the time limit was 25 s")
}

func TestGuestGoPanicIsAFailure(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{}, func(t *testing.T) {
		panic("deliberate Go panic") // kills init unless the harness recovers it
	})
	be := requireBootError(t, err, vmtest.ErrGuestFailed)
	require.Contains(t, be.Serial, "panic in guest: deliberate Go panic")
}

// A skip anywhere in the guest, here two subtests down, means a check did
// not run: the verdict is FAIL, and says which test skipped.
func TestGuestNestedSkipIsAFailure(t *testing.T) {
	err := vmtest.Try(t, vmtest.Config{}, func(t *testing.T) {
		t.Run("outer", func(t *testing.T) {
			t.Run("inner", func(t *testing.T) { t.Skip("deliberate skip") })
		})
	})
	be := requireBootError(t, err, vmtest.ErrGuestFailed)
	require.Contains(t, be.Serial, "TestGuestNestedSkipIsAFailure/guest/outer/inner skipped; a VM test must not skip")
}

// requireBootError checks that err is a *BootError of exactly one kind and
// logs it, so the report the harness produces is visible in the test output.
func requireBootError(t *testing.T, err error, kind error) *vmtest.BootError {
	t.Helper()
	require.Error(t, err)
	var be *vmtest.BootError
	require.True(t, errors.As(err, &be), "not a *BootError: %v", err)
	for _, k := range []error{vmtest.ErrGuestFailed, vmtest.ErrKernelPanic, vmtest.ErrTimeout, vmtest.ErrNoVerdict} {
		require.Equal(t, k == kind, errors.Is(err, k), "errors.Is(err, %v) for a %v error: %v", k, kind, err)
	}
	t.Logf("the harness reported, as expected:\n%s", indent(err.Error()))
	return be
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
