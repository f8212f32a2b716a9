package vmtest

import (
	"errors"
	"fmt"
	"os"
	"syscall"

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
