// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCleanSerial(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"crlf", "a\r\nb\r\n", "a\nb\n"},
		{"seabios reset and clear", "\x1bc\x1b[2J\x1b[1;1HSeaBIOS\r\n", "SeaBIOS\n"},
		{"colours", "\x1b[0;32mOK\x1b[0m done", "OK done"},
		{"private mode", "\x1b[?25lhidden\x1b[?25h", "hidden"},
		{"osc title", "\x1b]0;title\x07text", "text"},
		{"save and restore cursor", "\x1b7x\x1b8", "x"},
		{"other controls", "a\x00b\x07c\td", "abc\td"},
		{"utf8 kept", "µs ✓", "µs ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, CleanSerial([]byte(tt.in)))
		})
	}
}

func FuzzCleanSerial(f *testing.F) {
	f.Add([]byte("\x1bc\x1b[2J\r\nKernel panic - not syncing: x\r\n"))
	f.Add([]byte("\x1b]0;\x1b\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := CleanSerial(b)
		for _, r := range s {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
				t.Fatalf("control character %q left in %q", r, s)
			}
		}
		Tail(s, 3)
		splitGuestOutput(s)
		panicLine(s)
	})
}

func TestTail(t *testing.T) {
	require.Equal(t, "c\nd", Tail("a\nb\nc\nd\n", 2))
	require.Equal(t, "a", Tail("a", 5))
	require.Equal(t, "", Tail("", 5))
}

// exitStatus runs a shell that exits with code, giving a real *exec.ExitError.
func exitStatus(t *testing.T, code int) error {
	t.Helper()
	if code == 0 {
		return nil
	}
	err := exec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
	require.Error(t, err)
	return err
}

func TestClassify(t *testing.T) {
	const panicLog = "[ 1.2] Kernel panic - not syncing: sysrq triggered crash\n[ 1.3] CPU: 0\n"
	tests := []struct {
		name   string
		status int
		log    string
		want   error // nil = pass
		detail string
	}{
		{"pass", 3, "=== RUN T\n", nil, ""},
		{"guest failed", 5, "=== RUN T\nfail\n", ErrGuestFailed, ""},
		{"panic exits 0", 0, panicLog, ErrKernelPanic, "Kernel panic - not syncing: sysrq triggered crash"},
		{"poweroff without verdict", 0, "reboot: Power down\n", ErrNoVerdict, "qemu exit status 0"},
		{"unknown status", 1, "qemu: oops\n", ErrNoVerdict, "qemu exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := classify(context.Background(), exitStatus(t, tt.status), tt.log, time.Second)
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, tt.log, res.Serial)
				return
			}
			require.ErrorIs(t, err, tt.want)
			var be *BootError
			require.True(t, errors.As(err, &be))
			require.Equal(t, tt.detail, be.Detail)
			require.Contains(t, err.Error(), "--- serial console")
		})
	}
}

func TestClassifyTimeout(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("no verdict within 1s"))
	_, err := classify(ctx, errors.New("signal: killed"), "booting\n", time.Second)
	require.ErrorIs(t, err, ErrTimeout)
	require.Contains(t, err.Error(), "no verdict within 1s")
	require.Contains(t, err.Error(), "booting")
}

func TestBootErrorShowsTestOutputBeforeDmesg(t *testing.T) {
	dmesg := strings.Repeat("[ 0.1] noise\n", 200)
	log := "boot\n=== RUN   T\n    x_test.go:3: the real failure\n--- FAIL: T/guest (0.00s)\n" + dmesgHeader + "\n" + dmesg + "vmtest: guest verdict FAIL\n"
	err := &BootError{Kind: ErrGuestFailed, Serial: log}
	msg := err.Error()
	require.Contains(t, msg, "the real failure")
	require.Contains(t, msg, "guest verdict FAIL")
	require.Less(t, strings.Count(msg, "noise"), 25)
	for _, line := range strings.Split(msg, "\n") {
		require.False(t, strings.HasPrefix(strings.TrimSpace(line), "--- FAIL"), "raw guest result line %q would count as a host test", line)
	}
}

func TestGuestArgs(t *testing.T) {
	require.Equal(t, "-test.run=^TestA$/^b\\.c$ -test.v=test2json -test.count=1", guestArgs("TestA/b.c"))
}

func TestPrefixLines(t *testing.T) {
	require.Equal(t, "guest| a\nguest| --- PASS: x", prefixLines("a\n--- PASS: x\n"))
}

func TestIsStatic(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	_, err = IsStatic(exe)
	require.NoError(t, err)
	text := filepath.Join(t.TempDir(), "text")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("not an ELF file\n", 8)), 0o644))
	_, err = IsStatic(text)
	var fe *elf.FormatError
	require.ErrorAs(t, err, &fe)
	if _, err := os.Stat("/bin/sh"); err == nil {
		static, err := IsStatic("/bin/sh")
		require.NoError(t, err)
		require.False(t, static, "/bin/sh is dynamically linked on Debian")
	}
}

func TestQEMUArgs(t *testing.T) {
	args := strings.Join(qemuArgs(BootConfig{Kernel: "/k", Append: "x=1 -- -test.v"}, "/i"), " ")
	for _, want := range []string{"-kernel /k", "-initrd /i", "-m 512", "-smp 1", "-nic none", "-no-reboot",
		"isa-debug-exit,iobase=0xf4,iosize=0x04", "console=ttyS0 panic=-1 quiet no_timer_check x=1 -- -test.v"} {
		require.Contains(t, args, want)
	}
}
