// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/internal/modname"
)

// These helpers are the lab's own raw-syscall module loader, used in the VM
// by the lab's end-to-end check and by klplab demo. Package kmod is the
// real API; this stays as an independent check of the lab itself.

// LoadModule loads a .ko file with finit_module(2).
func LoadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil {
		return fmt.Errorf("finit_module %s: %w", path, err)
	}
	return nil
}

// LivepatchDir is the sysfs directory of an enabled livepatch under sysRoot
// ("/sys" on a live system).
func LivepatchDir(sysRoot, name string) string {
	return filepath.Join(sysRoot, "kernel/livepatch", modname.Kernel(name))
}

// WaitTransition waits until the livepatch's transition file reads 0.
func WaitTransition(ctx context.Context, sysRoot, name string) error {
	file := filepath.Join(LivepatchDir(sysRoot, name), "transition")
	return poll(ctx, "transition of "+name, func() (bool, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			return false, err
		}
		return strings.TrimSpace(string(b)) == "0", nil
	})
}

// DisableLivepatch writes 0 to the patch's enabled file and waits for its
// sysfs directory to vanish (the kernel removes it once unpatched).
func DisableLivepatch(ctx context.Context, sysRoot, name string) error {
	dir := LivepatchDir(sysRoot, name)
	if err := os.WriteFile(filepath.Join(dir, "enabled"), []byte("0"), 0); err != nil {
		return fmt.Errorf("disable livepatch %s: %w", name, err)
	}
	return poll(ctx, "removal of "+dir, func() (bool, error) {
		_, err := os.Stat(dir)
		if errors.Is(err, os.ErrNotExist) {
			return true, nil
		}
		return false, err
	})
}

// UnloadModule removes a module with delete_module(2), retrying while the
// kernel still holds it (EBUSY, EAGAIN) until ctx ends.
func UnloadModule(ctx context.Context, name string) error {
	name = modname.Kernel(name)
	return poll(ctx, "unload of "+name, func() (bool, error) {
		err := unix.DeleteModule(name, unix.O_NONBLOCK)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EAGAIN):
			return false, nil
		}
		return false, fmt.Errorf("delete_module %s: %w", name, err)
	})
}

// poll calls check every 10 ms until it reports done, fails, or ctx ends.
func poll(ctx context.Context, what string, check func() (bool, error)) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-tick.C:
		}
	}
}
