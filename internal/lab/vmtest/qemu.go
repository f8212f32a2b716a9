// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Verdict bytes the guest writes to the isa-debug-exit port; QEMU then
// exits with status (v<<1)|1.
const (
	VerdictPass = 1 // QEMU exit status 3
	VerdictFail = 2 // QEMU exit status 5
	debugExitIO = 0xf4
	qbootROM    = "/usr/share/qemu/qboot.rom"
	defaultQEMU = "qemu-system-x86_64"
	tailLines   = 40
	// no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
	// check can fail and panic the boot ("IO-APIC + timer doesn't work").
	defaultAppnd = "console=ttyS0 panic=-1 quiet no_timer_check"
	dmesgHeader  = "vmtest: dmesg:"
)

// Outcomes of a boot that did not pass. Every *BootError matches exactly one.
var (
	ErrGuestFailed = errors.New("guest test failed")
	ErrKernelPanic = errors.New("guest kernel panicked")
	ErrTimeout     = errors.New("guest hung: time limit reached")
	ErrNoVerdict   = errors.New("guest stopped without a verdict")
)

// BootError says how a boot went wrong and carries the serial log.
type BootError struct {
	Kind     error  // one of ErrGuestFailed, ErrKernelPanic, ErrTimeout, ErrNoVerdict
	Detail   string // e.g. the panic line, the QEMU exit status
	Serial   string // the whole cleaned serial log
	Duration time.Duration
}

// Error names the outcome and shows the end of the serial log. For a failed
// guest test it shows the test's own output and then the end of the dmesg
// the guest printed, so the failure message is never pushed out by the log.
func (e *BootError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	fmt.Fprintf(&b, " (after %s)", e.Duration.Round(100*time.Millisecond))
	output, dmesg := splitGuestOutput(e.Serial)
	if e.Kind == ErrGuestFailed && output != "" {
		fmt.Fprintf(&b, "\n--- guest test output ---\n%s", prefixLines(Tail(output, 2*tailLines)))
		fmt.Fprintf(&b, "\n--- serial console (guest dmesg), last %d lines ---\n%s", tailLines/2, prefixLines(Tail(dmesg, tailLines/2)))
		return b.String()
	}
	fmt.Fprintf(&b, "\n--- serial console, last %d lines ---\n%s", tailLines, prefixLines(Tail(e.Serial, tailLines)))
	return b.String()
}

// splitGuestOutput cuts a serial log into the guest test's output (from the
// first "=== RUN" line) and what the harness printed after it (dmesg, verdict).
func splitGuestOutput(log string) (output, rest string) {
	start := strings.Index(log, "=== RUN")
	if start < 0 {
		return "", log
	}
	output = log[start:]
	if end := strings.Index(output, dmesgHeader); end >= 0 {
		return output[:end], output[end:]
	}
	return output, ""
}

func (e *BootError) Unwrap() error { return e.Kind }

// BootConfig describes one VM run.
type BootConfig struct {
	// Kernel is the bzImage to boot (required).
	Kernel string
	// Files make up the initramfs; one of them must be "/init".
	Files []File
	// Append is added to the kernel command line after the defaults
	// ("console=ttyS0 panic=-1 quiet"). Words after a "--" reach /init as
	// arguments; name=value words without a dot become its environment.
	Append string
	// MemoryMB is the guest RAM; default 512.
	MemoryMB int
	// QEMU is the emulator binary; default qemu-system-x86_64 from PATH.
	QEMU string
	// Console, if set, receives the raw serial output as it arrives.
	Console io.Writer
	// WorkDir holds the initramfs; default os.TempDir().
	WorkDir string
}

// Result is a passing boot.
type Result struct {
	Serial   string // cleaned serial log
	Duration time.Duration
}

// Boot runs a VM under TCG until the guest writes a verdict, the kernel
// panics, or ctx ends (its deadline is the time limit). A guest that passed
// returns a Result; every other outcome is a *BootError.
func Boot(ctx context.Context, cfg BootConfig) (*Result, error) {
	if cfg.Kernel == "" {
		return nil, errors.New("vmtest: BootConfig.Kernel is empty")
	}
	initrd, err := os.CreateTemp(cfg.WorkDir, "vmtest-initramfs-*.cpio.gz")
	if err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	defer os.Remove(initrd.Name())
	if err := WriteInitramfs(initrd, cfg.Files); err != nil {
		initrd.Close()
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	if err := initrd.Close(); err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	qemu := cfg.QEMU
	if qemu == "" {
		qemu = defaultQEMU
	}
	if _, err := exec.LookPath(qemu); err != nil {
		return nil, fmt.Errorf("vmtest: %w (install qemu-system-x86: make deps)", err)
	}
	cmd := exec.CommandContext(ctx, qemu, qemuArgs(cfg, initrd.Name())...)
	serial := &serialBuffer{}
	var out io.Writer = serial
	if cfg.Console != nil {
		out = io.MultiWriter(serial, cfg.Console)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	took := time.Since(start)
	log := CleanSerial(serial.Bytes())
	return classify(ctx, runErr, log, took)
}

func qemuArgs(cfg BootConfig, initrd string) []string {
	mem := cfg.MemoryMB
	if mem <= 0 {
		mem = 512
	}
	args := []string{
		"-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
		"-m", fmt.Sprint(mem), "-smp", "1", "-nic", "none",
		"-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=0x04", debugExitIO),
		"-kernel", cfg.Kernel, "-initrd", initrd,
		"-append", strings.TrimSpace(defaultAppnd + " " + cfg.Append),
	}
	// qboot boots faster than SeaBIOS and prints no escape sequences.
	if _, err := os.Stat(qbootROM); err == nil {
		args = append(args, "-bios", qbootROM)
	}
	return args
}

// classify maps QEMU's exit and the serial log to an outcome.
func classify(ctx context.Context, runErr error, log string, took time.Duration) (*Result, error) {
	bootErr := func(kind error, detail string) error {
		return &BootError{Kind: kind, Detail: detail, Serial: log, Duration: took}
	}
	if ctx.Err() != nil {
		return nil, bootErr(ErrTimeout, context.Cause(ctx).Error())
	}
	status := 0
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr) && exitErr.Exited():
		status = exitErr.ExitCode()
	default:
		return nil, fmt.Errorf("vmtest: qemu: %w\n%s", runErr, Tail(log, tailLines))
	}
	switch status {
	case VerdictPass<<1 | 1:
		return &Result{Serial: log, Duration: took}, nil
	case VerdictFail<<1 | 1:
		return nil, bootErr(ErrGuestFailed, "")
	}
	if line := panicLine(log); line != "" {
		return nil, bootErr(ErrKernelPanic, line)
	}
	return nil, bootErr(ErrNoVerdict, fmt.Sprintf("qemu exit status %d", status))
}

// panicLine returns the kernel's "Kernel panic - not syncing" line, if any.
func panicLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if i := strings.Index(l, "Kernel panic - not syncing"); i >= 0 {
			return strings.TrimSpace(l[i:])
		}
	}
	return ""
}
