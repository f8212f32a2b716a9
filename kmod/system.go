// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

func (s *System) sysPath(elem ...string) string {
	return filepath.Join(append([]string{orDefault(s.SysRoot, "/sys")}, elem...)...)
}

func (s *System) procPath(elem ...string) string {
	return filepath.Join(append([]string{orDefault(s.ProcRoot, "/proc")}, elem...)...)
}

func (s *System) livepatchPath(elem ...string) string {
	return s.sysPath(append([]string{"kernel", "livepatch"}, elem...)...)
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

// readAttr reads a sysfs/procfs attribute without its trailing newline.
func (s *System) readAttr(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// AttrWriter is implemented by a Kernel that also takes the writes to
// livepatch control files (enabled, force, signal). Those writes are kernel
// operations: on a real host they act before write(2) returns and fail with
// the kernel's errno. A fake kernel implements this to act the same way; the
// real one needs nothing, kmod then writes the file.
type AttrWriter interface {
	WriteAttr(path, value string) error
}

// writeAttr writes a livepatch control file through the Kernel when it takes
// such writes, else to the file.
func (s *System) writeAttr(path, value string) error {
	if w, ok := s.kernel().(AttrWriter); ok {
		return w.WriteAttr(path, value)
	}
	return writeAttr(path, value)
}

// writeAttr writes a sysfs attribute the way the kernel expects: one write,
// no truncation (sysfs ignores it), no create.
func writeAttr(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// HasLivepatch reports whether the kernel has CONFIG_LIVEPATCH.
func (s *System) HasLivepatch() bool {
	fi, err := os.Stat(s.livepatchPath())
	return err == nil && fi.IsDir()
}

// moduleLoaded reports whether /sys/module/<name> exists.
func (s *System) moduleLoaded(name string) bool {
	_, err := os.Stat(s.sysPath("module", name))
	return err == nil
}

// taintedLivepatch reports whether a loaded module carries the livepatch
// taint (K in /sys/module/<name>/taint): true for every livepatch module,
// enabled, disabled or replaced, and for nothing else.
func (s *System) taintedLivepatch(name string) bool {
	v, err := s.readAttr(s.sysPath("module", name, "taint"))
	return err == nil && strings.ContainsRune(v, 'K')
}

// refcnt returns /sys/module/<name>/refcnt; -1 with an error when unreadable.
func (s *System) refcnt(name string) (int, error) {
	v, err := s.readAttr(s.sysPath("module", name, "refcnt"))
	if err != nil {
		return -1, err
	}
	t := strings.TrimSpace(v)
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || t[0] == '+' {
		return -1, fmt.Errorf("refcnt of %s: %q is not a reference count", name, v)
	}
	return n, nil
}

// ModuleName is the kernel's spelling of a module name: '-' becomes '_'.
func ModuleName(name string) string { return modname.Kernel(name) }
