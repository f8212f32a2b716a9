// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"log/slog"
	"os"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/modname"
)

// Kernel is the module syscall surface kmod needs. The zero System uses the
// host's (HostKernel); kmodtest.Kernel is a fake for tests.
type Kernel interface {
	// FinitModule loads the module read from f (finit_module(2)).
	FinitModule(f *os.File, params string, flags int) error
	// InitModule loads the module image (init_module(2)).
	InitModule(image []byte, params string) error
	// DeleteModule unloads the named module (delete_module(2)).
	DeleteModule(name string, flags int) error
	// Release is the running kernel's release, as uname -r prints it.
	Release() (string, error)
}

// Flags for Kernel.FinitModule and Kernel.DeleteModule, with the kernel's values
// (so that every platform compiles).
const (
	ModuleInitIgnoreModversions = 1
	ModuleInitIgnoreVermagic    = 2
	ModuleInitCompressedFile    = 4
	DeleteNonblock              = 0o4000 // O_NONBLOCK
)

// System is one host's modules, sysfs and install store. The zero value is
// the real host; tests point the roots at a temporary tree and Kernel at a
// fake (package kmodtest does both).
type System struct {
	// SysRoot is sysfs (default /sys).
	SysRoot string
	// ProcRoot is procfs (default /proc).
	ProcRoot string
	// ModulesRoot is the kernel module tree (default /lib/modules); the
	// Photon store lives in it.
	ModulesRoot string
	// KpatchRoot is the upstream kpatch store (default /var/lib/kpatch).
	KpatchRoot string
	// Store picks where Install writes (default StorePhoton). Both stores
	// are always read.
	Store StoreLayout
	// LockPath is the lock file that serialises loads and unloads between
	// processes (default /run/klpkit-kmod.lock).
	LockPath string
	// Kernel does the module syscalls (nil = the host's).
	Kernel Kernel
	// Logger receives progress (nil = discard).
	Logger *slog.Logger
	// PollInterval is how often sysfs is polled while waiting (default 100ms).
	PollInterval time.Duration
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (s *System) kernel() Kernel {
	if s.Kernel == nil {
		return HostKernel{}
	}
	return s.Kernel
}

// reporter sends each event to p (if any), as a report of op, and to the
// Logger (if any).
func (s *System) reporter(op klpkit.Op, p klpkit.ProgressFunc) func(Event) {
	return func(ev Event) {
		if s.Logger != nil {
			// The kind as its name: a JSON handler would otherwise log the number.
			s.Logger.Debug("kmod", "event", ev.Kind.String(), "module", ev.Module, "path", ev.Path,
				"attempt", ev.Attempt, "elapsed", ev.Elapsed, "tasks", len(ev.Tasks))
		}
		if p != nil {
			p(ev.progress(op))
		}
	}
}

func (s *System) poll() time.Duration {
	if s.PollInterval <= 0 {
		return 100 * time.Millisecond
	}
	return s.PollInterval
}

// Release returns the running kernel's release (uname -r).
func (s *System) Release() (string, error) { return s.kernel().Release() }

// ModuleName is the kernel's spelling of a module name: '-' becomes '_'.
func ModuleName(name string) string { return modname.Kernel(name) }
