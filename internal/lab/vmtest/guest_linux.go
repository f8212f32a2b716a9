// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// InGuest reports whether this process is the /init of a vmtest guest.
func InGuest() bool {
	return os.Getpid() == 1 && os.Getenv(guestEnv) == "1"
}

// SetupGuest mounts what a test expects of a Linux system: /proc, /sys,
// /dev (devtmpfs) and a tmpfs on /tmp. It is idempotent.
func SetupGuest() error {
	mounts := []struct{ fstype, target string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"tmpfs", "/tmp"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		err := unix.Mount(m.fstype, m.target, m.fstype, unix.MS_NOSUID, "")
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	for k, v := range map[string]string{"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/tmp", "TMPDIR": "/tmp"} {
		os.Setenv(k, v)
	}
	return nil
}

// Dmesg returns the kernel log buffer, without the "<6>" priority prefixes.
func Dmesg() (string, error) {
	const actionReadAll, actionSizeBuffer = 3, 10 // syslog(2) SYSLOG_ACTION_*
	size, err := unix.Klogctl(actionSizeBuffer, nil)
	if err != nil || size <= 0 {
		size = 1 << 20
	}
	buf := make([]byte, size)
	n, err := unix.Klogctl(actionReadAll, buf)
	if err != nil {
		return "", fmt.Errorf("syslog: %w", err)
	}
	return syslogPrefix.ReplaceAllString(string(buf[:n]), ""), nil
}

// ExitGuest ends the VM with a verdict (VerdictPass or VerdictFail): it
// waits until the console has sent everything, writes the verdict to the
// isa-debug-exit port and, if that fails, powers off (which the host reports
// as "no verdict"). It does not return.
func ExitGuest(verdict byte) {
	os.Stdout.Sync()
	unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1) // tcdrain
	if f, err := os.OpenFile("/dev/port", os.O_WRONLY, 0); err == nil {
		f.WriteAt([]byte{verdict}, debugExitIO)
		f.Close()
	} else {
		fmt.Println("vmtest: cannot write the verdict:", err)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	syscall.Exit(1) // unreachable unless reboot failed: the kernel panics, which the host reports
}

// watchStdout diverts file descriptor 1 (where the testing package writes)
// through a pipe that copies everything to the original and keeps the
// "--- SKIP:" lines; stop restores fd 1 and returns those lines. The pipe
// is blocking, as the console is, so no write sees EAGAIN.
func watchStdout() (stop func() string, err error) {
	saved, err := unix.Dup(1)
	if err != nil {
		return nil, fmt.Errorf("dup stdout: %w", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		unix.Close(saved)
		return nil, fmt.Errorf("pipe: %w", err)
	}
	if err := unix.Dup3(p[1], 1, 0); err != nil {
		unix.Close(saved)
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, fmt.Errorf("dup3 pipe to stdout: %w", err)
	}
	unix.Close(p[1])
	r := os.NewFile(uintptr(p[0]), "stdout-pipe")
	out := os.NewFile(uintptr(saved), "stdout")
	var kept skipLines
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.MultiWriter(out, &kept), r)
	}()
	return func() string {
		_ = unix.Dup3(saved, 1, 0) // the pipe's last write end closes here...
		select {
		case <-done:
		case <-time.After(2 * time.Second): // ...unless a child process still holds a copy
		}
		r.Close()
		out.Close()
		return kept.String()
	}, nil
}
