// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Sentinels callers branch on. Errors returned by this package wrap them, and
// errors that come from a syscall also match the errno (errors.Is(err,
// syscall.EEXIST) keeps working).
var (
	// ErrUnsupported: the module syscalls do not exist on this platform.
	ErrUnsupported = errors.New("kmod: module syscalls not supported on this platform")
	// ErrNotLivepatch: the module lacks the livepatch=Y modinfo marker.
	ErrNotLivepatch = errors.New("not a livepatch module")
	// ErrNoKernelLivepatch: the running kernel has no CONFIG_LIVEPATCH
	// (no /sys/kernel/livepatch).
	ErrNoKernelLivepatch = errors.New("kernel does not support livepatch (no /sys/kernel/livepatch: CONFIG_LIVEPATCH is off)")
	// ErrVermagic: the module was built for another kernel. See *VermagicError.
	ErrVermagic = errors.New("vermagic mismatch")
	// ErrAlreadyLoaded: a module of that name is already in the kernel.
	ErrAlreadyLoaded = errors.New("module already loaded")
	// ErrNotLoaded: no module of that name is in the kernel.
	ErrNotLoaded = errors.New("module not loaded")
	// ErrNotInstalled: no installed module of that name for the kernel.
	ErrNotInstalled = errors.New("module not installed")
	// ErrAlreadyInstalled: a module of that file name is already in the store.
	ErrAlreadyInstalled = errors.New("module already installed")
	// ErrPermission: the caller lacks CAP_SYS_MODULE (run as root).
	ErrPermission = errors.New("operation not permitted (run as root: CAP_SYS_MODULE is needed)")
	// ErrModulesDisabled: /proc/sys/kernel/modules_disabled is 1 until reboot.
	ErrModulesDisabled = errors.New("module loading is disabled (kernel.modules_disabled=1; only a reboot re-enables it)")
	// ErrLockdown: kernel lockdown refuses the (unsigned) module.
	ErrLockdown = errors.New("kernel lockdown refuses the module")
	// ErrSignatureRequired: the kernel enforces module signatures and the
	// module's is missing or made with an unknown key.
	ErrSignatureRequired = errors.New("module signature required or key rejected")
	// ErrBusy: the kernel kept answering EBUSY (another patch in transition,
	// an ftrace or kprobe conflict) after all retries.
	ErrBusy = errors.New("device or resource busy")
	// ErrTransitionStalled: a patch transition did not finish in time. See
	// *StalledError.
	ErrTransitionStalled = errors.New("transition stalled")
	// ErrForced: the patch was forced; its module can never be removed.
	ErrForced = errors.New("patch was forced and cannot be removed")
	// ErrNotInTransition: force or signal was asked of a patch not in transition.
	ErrNotInTransition = errors.New("no patch in transition")
	// ErrStackingEnforced: kernels before 5.1 only let the topmost enabled
	// patch be disabled; the one asked for lies below a newer one.
	ErrStackingEnforced = errors.New("kernel before 5.1 only disables the topmost patch (unload the newer patches first)")
	// ErrBadModule: the file is not a usable kernel module (not ELF, truncated,
	// no .modinfo, unknown compression).
	ErrBadModule = errors.New("not a valid kernel module")
)

// VermagicError says which kernel a module was built for and which one it
// was checked against.
type VermagicError struct {
	Module string `json:"module"` // file or module name
	Have   string `json:"have"`   // the module's vermagic
	Want   string `json:"want"`   // the kernel release it was checked against
}

func (e *VermagicError) Error() string {
	return fmt.Sprintf("%s: vermagic mismatch: module has %q, kernel is %q (rebuild the module for this kernel)", e.Module, e.Have, e.Want)
}

// Is makes errors.Is(err, ErrVermagic) true.
func (e *VermagicError) Is(target error) bool { return target == ErrVermagic }

// Task is a task the kernel has not yet switched to the patch's target state.
type Task struct {
	PID   int    `json:"pid"`   // thread group id (the /proc/<pid> directory)
	TID   int    `json:"tid"`   // thread id
	Comm  string `json:"comm"`  // command name
	Stack string `json:"stack"` // kernel stack, empty when unreadable
}

// StalledError reports a transition that did not finish, with the tasks that
// held it up, and whether the module was reverted (disabled and unloaded).
type StalledError struct {
	Patch    string `json:"patch"`
	Tasks    []Task `json:"tasks"`
	Reverted bool   `json:"reverted"`
	// RevertErr is why the revert failed, when it did.
	RevertErr error `json:"revert_err"`
}

func (e *StalledError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s did not complete its transition", e.Patch)
	if e.Reverted {
		b.WriteString(" and was unloaded")
	} else if e.RevertErr != nil {
		fmt.Fprintf(&b, "; reverting failed: %v", e.RevertErr)
	}
	fmt.Fprintf(&b, " (transition stalled, %d task(s) not switched", len(e.Tasks))
	for i, t := range e.Tasks {
		if i == 3 {
			b.WriteString(", ...")
			break
		}
		fmt.Fprintf(&b, ", %d %s", t.TID, t.Comm)
	}
	b.WriteString(")")
	return b.String()
}

// Is makes errors.Is(err, ErrTransitionStalled) true.
func (e *StalledError) Is(target error) bool { return target == ErrTransitionStalled }

// Unwrap exposes the revert failure, if any.
func (e *StalledError) Unwrap() error { return e.RevertErr }

// OpError is a failed kernel operation: which, on which module, the errno,
// and the sentinel that classifies it (nil when none fits).
type OpError struct {
	Op     string `json:"op"` // "finit_module", "init_module", "delete_module", "write enabled", ...
	Module string `json:"module"`
	Kind   error  `json:"kind"` // a sentinel of this package, or nil
	Err    error  `json:"err"`  // usually a syscall.Errno
}

func (e *OpError) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Op, e.Module, e.Err)
	if e.Kind != nil {
		msg += ": " + e.Kind.Error()
		if e.Kind == ErrSignatureRequired || e.Kind == ErrLockdown {
			msg += signatureHint(e.Err)
		}
	} else if errors.Is(e.Err, syscall.ENOEXEC) {
		msg += " (the kernel refused the module's format or version magic; dmesg says which)"
	}
	return msg
}

// Unwrap returns both the sentinel and the errno.
func (e *OpError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// classifyLoad maps a load errno to a sentinel. sys is consulted for EPERM,
// which has three causes that need different fixes.
func (s *System) classifyLoad(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	if isSignatureErrno(errno) {
		return ErrSignatureRequired
	}
	switch errno {
	case syscall.EEXIST:
		return ErrAlreadyLoaded
	case syscall.EBUSY:
		return ErrBusy
	case syscall.ENOSYS:
		return ErrUnsupported
	case syscall.EPERM:
		if s.modulesDisabled() {
			return ErrModulesDisabled
		}
		if s.lockedDown() {
			return ErrLockdown
		}
		return ErrPermission
	}
	return nil
}
