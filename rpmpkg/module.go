// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/kmod"
)

// ErrInvalidModule: the module given to Build is not a livepatch module for
// the package's target kernel. Errors with it also match the kmod sentinel
// that says why: kmod.ErrBadModule (not a kernel module), kmod.ErrNotLivepatch
// (no livepatch=Y) or kmod.ErrVermagic (a *kmod.VermagicError: built for
// another kernel).
var ErrInvalidModule = errors.New("not a livepatch module for the target kernel")

// ModuleError names the module file (or, for Package.Module, the package
// and the byte count) a refusal is about.
type ModuleError struct {
	Module string `json:"module"` // ModulePath, or a description of the in-memory module
	Err    error  `json:"err"`
}

func (e *ModuleError) Error() string { return fmt.Sprintf("module %s: %v", e.Module, e.Err) }

func (e *ModuleError) Unwrap() error { return e.Err }

// checkModule reads what the package's scriptlets and %pre rely on from the
// module itself, with kmod's .modinfo reader: it must be a livepatch module
// built for p.Kernel, and its in-kernel name is the one kpatch unload needs
// (a file named after the package can hold a module with another name).
// what names the module in errors.
func (p *Package) checkModule(what string) error {
	refuse := func(err error) error {
		return &ModuleError{Module: what, Err: fmt.Errorf("%w: %w", ErrInvalidModule, err)}
	}
	m, err := kmod.ParseModule(p.Module)
	if err != nil {
		return refuse(err)
	}
	if !m.Info.Livepatch {
		return refuse(fmt.Errorf("%w: %s has no livepatch=Y in .modinfo", kmod.ErrNotLivepatch, m.Name))
	}
	if m.Info.Release() != p.Kernel {
		return refuse(&kmod.VermagicError{Module: m.Name, Have: m.Info.Vermagic, Want: p.Kernel})
	}
	name := kmod.ModuleName(m.Name)
	if p.ModuleName != "" && kmod.ModuleName(p.ModuleName) != name {
		return &ModuleError{Module: what, Err: fmt.Errorf("%w: ModuleName is %q but the module calls itself %q (leave it empty)",
			ErrInvalidSpec, p.ModuleName, name)}
	}
	p.ModuleName = name
	return nil
}
