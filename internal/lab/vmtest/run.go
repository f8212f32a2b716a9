// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
)

// Config describes the VM of one test. The zero value boots the lab kernel
// with just the test binary.
type Config struct {
	// Files are added to the initramfs beside the test binary (/init).
	Files []File
	// Setup runs on the host only, before the boot, and returns more files:
	// put host-side work (building a module) here, because the test
	// function itself also runs inside the guest up to the Run call.
	Setup func(t *testing.T, l *lab.Lab) []File
	// Timeout bounds the whole boot; default 2 minutes, and never past the
	// test binary's -timeout.
	Timeout time.Duration
	// Append is added to the kernel command line.
	Append string
	// MemoryMB is the guest RAM; default 512.
	MemoryMB int
	// Kernel picks the kernel image to boot instead of the lab's Debian
	// kernel (for example a Photon lab kernel); nil boots the lab kernel.
	Kernel KernelFunc
	// Generation is the lab kernel to boot (and the lab Setup and Kernel
	// get): "" is the default, lab.Bookworm61; lab.Bullseye510 boots 5.10.
	Generation lab.Generation
}

const defaultTimeout = 2 * time.Minute

// guestEnv is set on the guest kernel's command line ("VMTEST_GUEST=1"
// has no dot, so the kernel hands it to init as an environment variable).
const guestEnv = "VMTEST_GUEST"

// Run boots the lab kernel with the running test binary as /init and runs
// guest inside the VM as this very test: the guest's t.Log output and
// failures (plus dmesg on failure) come back into this test's output, and a
// guest failure, kernel panic, hang or missing verdict fails the test with
// the tail of the serial console.
//
// Without KLPKIT_VMTEST=1 the test is skipped; with it, a missing lab or
// qemu is a failure.
func Run(t *testing.T, cfg Config, guest func(t *testing.T)) {
	t.Helper()
	if err := Try(t, cfg, guest); err != nil {
		t.Fatal(err)
	}
}

// Try is Run for tests of broken guests: it returns the boot's outcome (a
// *BootError matching ErrGuestFailed, ErrKernelPanic, ErrTimeout or
// ErrNoVerdict) instead of failing the test. In the guest it behaves like Run.
func Try(t *testing.T, cfg Config, guest func(t *testing.T)) error {
	t.Helper()
	if InGuest() {
		runGuest(t, guest)
		return nil
	}
	l := RequireLabGeneration(t, cfg.Generation)
	image := l.Vmlinuz
	if cfg.Kernel != nil {
		if image = cfg.Kernel(t, l); image == "" {
			return errors.New("vmtest: Config.Kernel returned no kernel image")
		}
	}
	files := append([]File{{Guest: "/init", Host: guestBinary(t), Mode: 0o755}}, cfg.Files...)
	if cfg.Setup != nil {
		files = append(files, cfg.Setup(t, l)...)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(t.Context(), timeout, fmt.Errorf("no verdict within %s", timeout))
	defer cancel()
	if d, ok := t.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadlineCause(ctx, d.Add(-5*time.Second), errors.New("test binary -timeout reached"))
		defer cancelDeadline()
	}
	res, err := Boot(ctx, BootConfig{
		Kernel:   image,
		Files:    files,
		Append:   strings.TrimSpace(cfg.Append + " " + guestEnv + "=1 -- " + guestArgs(t.Name())),
		MemoryMB: cfg.MemoryMB,
		WorkDir:  t.TempDir(),
	})
	if err != nil {
		return err
	}
	t.Logf("vmtest: guest passed in %s on %s; its console:\n%s", res.Duration.Round(100*time.Millisecond), image, prefixLines(res.Serial))
	return nil
}

// RequireLab returns the prepared lab for a test that needs it: it skips
// unless KLPKIT_VMTEST=1 and fails if the lab is not prepared.
func RequireLab(t testing.TB) *lab.Lab {
	t.Helper()
	return RequireLabGeneration(t, lab.Bookworm61)
}

// RequireLabGeneration is RequireLab for the lab kernel of generation g
// ("" is the default); `make lab-all` prepares every generation.
func RequireLabGeneration(t testing.TB, g lab.Generation) *lab.Lab {
	t.Helper()
	if os.Getenv("KLPKIT_VMTEST") != "1" {
		t.Skip("lab test: set KLPKIT_VMTEST=1 after `make lab-all` (needs qemu-system-x86_64 and the lab kernels; `make test` does both)")
	}
	g, err := lab.ParseGeneration(string(g))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.Open(g.Dir(lab.DirFromEnv(os.Getenv)))
	if err != nil {
		t.Fatalf("KLPKIT_VMTEST=1 but %v (the %s lab: %s)", err, g, makeTarget(g))
	}
	return l
}

// makeTarget is the make command that prepares the lab of generation g.
func makeTarget(g lab.Generation) string {
	if g == lab.Bookworm61 {
		return "make lab"
	}
	return "make lab-" + string(g)
}

// guestArgs are the test binary's flags inside the guest: run exactly this
// test (and its subtests), verbosely, so its output streams to the console.
// The test2json form of -test.v prints every subtest's result line as the
// subtest ends (plain -test.v holds nested ones until the top-level test
// ends, after the verdict), so the harness sees skips at any depth; its
// framing byte (^V) is a control character CleanSerial removes.
func guestArgs(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return "-test.run=" + strings.Join(parts, "/") + " -test.v=test2json -test.count=1"
}

// prefixLines marks guest output so it reads apart from the host's (and so
// the guest's "--- PASS" lines are not counted as host tests).
func prefixLines(s string) string {
	return "guest| " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\nguest| ")
}

// runGuest runs the guest function in the VM as the subtest "guest" (so
// that its cleanups run and its result is known) and then ends the VM with
// the verdict: it never returns, so host-side code after Run never runs in
// the guest.
func runGuest(t *testing.T, guest func(t *testing.T)) {
	if err := SetupGuest(); err != nil {
		fmt.Printf("vmtest: guest setup: %v\n", err)
		ExitGuest(VerdictFail)
	}
	o := runGuestTest(t, guest, watchStdout)
	v, why := verdict(o)
	if why != "" {
		fmt.Printf("vmtest: %s\n", why)
	}
	if v == VerdictFail {
		if log, err := Dmesg(); err == nil {
			fmt.Printf("%s\n%s", dmesgHeader, log)
		}
	}
	fmt.Printf("vmtest: guest verdict %s\n", map[byte]string{VerdictPass: "PASS", VerdictFail: "FAIL"}[v])
	ExitGuest(v)
}
