package vmtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
)

// KernelFunc picks the bzImage a VM test boots instead of the lab's own
// kernel. It runs on the host only (like Config.Setup), after the lab gate.
type KernelFunc func(t *testing.T, l *lab.Lab) string

// RunKernel is Run booting the kernel that kernel returns (for example the
// Photon-versioned lab kernel of package photonlab) instead of the lab's
// Debian kernel. The guest side is the same as Run's.
func RunKernel(t *testing.T, kernel KernelFunc, cfg Config, guest func(t *testing.T)) {
	t.Helper()
	if err := TryKernel(t, kernel, cfg, guest); err != nil {
		t.Fatal(err)
	}
}

// TryKernel is Try booting the kernel that kernel returns.
func TryKernel(t *testing.T, kernel KernelFunc, cfg Config, guest func(t *testing.T)) error {
	t.Helper()
	if InGuest() {
		runGuest(t, guest)
		return nil
	}
	if kernel == nil {
		return errors.New("vmtest: TryKernel needs a KernelFunc")
	}
	l := RequireLab(t)
	image := kernel(t, l)
	if image == "" {
		return errors.New("vmtest: the KernelFunc returned no kernel image")
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
