// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"errors"
	"fmt"
	"io"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// Options configures Diff. The zero value (or nil) diffs a vmlinux object
// for a 6.1 x86_64 kernel.
type Options struct {
	// Name names the object in errors and in the Result, e.g.
	// "fs/proc/meminfo.o". Default "object".
	Name string
	// Parent is the object the translation unit is linked into: "vmlinux"
	// (default) or a module name with '-' replaced by '_'.
	Parent string
	// Sizes are the special-section entry sizes of the target kernel
	// (kpatch-build reads them from vmlinux DWARF). A zero field is
	// inferred from the object's relocation layout, falling back to
	// DefaultSizes; a set field is checked against the object.
	Sizes Sizes
	// Exported is the set of symbols the kernel exports (from
	// Module.symvers); references to them stay normal relocations.
	Exported map[string]bool
}

// Sizes are special-section entry sizes that vary between kernel versions
// and configurations (kpatch-build reads them from vmlinux DWARF).
type Sizes struct {
	Bug, Exception, Alternative, Jump, Orc, StaticCall, Paravirt, PrintkIndex int
}

// DefaultSizes are the entry sizes of Linux 6.1 on x86_64 with the usual
// distribution configuration (DEBUG_BUGVERBOSE, relative jump labels).
var DefaultSizes = Sizes{Bug: 12, Exception: 12, Alternative: 12, Jump: 16, Orc: 6, StaticCall: 8, Paravirt: 16, PrintkIndex: 48}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Name == "" {
		out.Name = "object"
	}
	if out.Parent == "" {
		out.Parent = "vmlinux"
	}
	return out
}

// Diff compares the original and patched object of one translation unit.
// It returns ErrNoChanges when nothing changed, UnsupportedErrors
// (matching ErrUnsupportedChange and *UnsupportedError) for changes that
// cannot be live patched, and otherwise a Result that can write the patch
// object.
func Diff(orig, patched io.ReaderAt, opts *Options) (res *Result, err error) {
	o := opts.withDefaults()
	defer func() {
		// Inputs are checked as they are read; this is the last line of
		// defence for an input no check foresaw: an error, not a crash.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("%s: %w: %v", o.Name, ErrInternal, p)
		}
	}()
	of, err := elfobj.Read(orig)
	if err != nil {
		return nil, fmt.Errorf("%s: original object: %w", o.Name, err)
	}
	pf, err := elfobj.Read(patched)
	if err != nil {
		return nil, fmt.Errorf("%s: patched object: %w", o.Name, err)
	}
	for _, side := range []struct {
		what string
		f    *elfobj.File
	}{{"original", of}, {"patched", pf}} {
		if err := checkCompilerOutput(side.f); err != nil {
			return nil, fmt.Errorf("%s: %s object: %w", o.Name, side.what, err)
		}
	}
	if of.OSABI != pf.OSABI || of.Flags != pf.Flags || of.Machine != pf.Machine {
		return nil, fmt.Errorf("%s: original and patched objects have different ELF headers", o.Name)
	}
	d := &differ{name: o.Name, orig: newObject(o.Name, of), patched: newObject(o.Name, pf), opts: &o}
	return d.run()
}

func (d *differ) run() (*Result, error) {
	for _, obj := range []*object{d.orig, d.patched} {
		if err := obj.normalize(); err != nil {
			return nil, err
		}
	}
	var errs UnsupportedErrors
	collect := func(err error) error {
		var ue UnsupportedErrors
		if errors.As(err, &ue) {
			errs = append(errs, ue...)
			return nil
		}
		var one *UnsupportedError
		if errors.As(err, &one) {
			errs = append(errs, one)
			return nil
		}
		return err
	}
	if err := collect(d.correlate()); err != nil {
		return nil, err
	}
	if err := collect(d.compare()); err != nil {
		return nil, err
	}
	d.applyIgnores()
	res := d.classify()
	if len(errs) == 0 && len(res.Changed) == 0 && len(res.New) == 0 && !d.hasCallbacks() && !d.substantialChange() {
		if len(d.initOnly) > 0 {
			res.Warnings = append(res.Warnings, d.warnings...)
			return res, d.initOnlyRefusal()
		}
		return nil, d.noChangeError()
	}
	errs = append(errs, d.checkNewFunctions(res)...)
	errs = append(errs, d.checkFentry()...)
	if err := collect(d.include()); err != nil {
		return nil, err
	}
	errs = append(errs, d.verifyInclusion()...)
	if len(errs) > 0 {
		return res, errs
	}
	if err := d.buildOutput(res); err != nil {
		return nil, err
	}
	res.functions = d.functionStates()
	return res, nil
}

// checkCompilerOutput refuses objects that are not plain compiler output:
// a section with several relocation sections (a finished livepatch
// module's .klp.rela sections) is something the differ cannot compare.
func checkCompilerOutput(f *elfobj.File) error {
	for _, s := range f.Sections {
		if len(s.MoreRelas) > 0 {
			return fmt.Errorf("section %s has %d relocation sections (%s is one): expected a compiler-built object, not a linked or livepatch module",
				s.Name, 1+len(s.MoreRelas), s.MoreRelas[0].Name)
		}
	}
	return nil
}
