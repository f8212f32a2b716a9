// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// Result is what Diff found and what the patch object holds. The linker
// stage (package build/internal/klp) turns Changed into klp_func entries and
// Relocations with Livepatch set into .klp.rela sections.
type Result struct {
	Object string `json:"object"` // Options.Name
	Parent string `json:"parent"` // "vmlinux" or the module name

	// Changed lists the functions to redirect, in patched-object order:
	// changed functions that are not .cold/.part children of another.
	Changed []Function `json:"changed"`
	// New lists new functions (children excluded). They need no klp_func.
	New []Function `json:"new"`
	// Included lists every FUNC and OBJECT symbol defined in the patch
	// object, children and __pfx_ padding symbols included.
	Included []Symbol `json:"included"`
	// Relocations lists every relocation in the patch object whose target
	// is not defined in it: the linker or the livepatch core resolves them.
	Relocations []Relocation `json:"relocations"`
	// Warnings are conditions that did not stop the diff, e.g. a new
	// static local that could not be matched to its original.
	Warnings []string `json:"warnings"`

	out       *elfobj.File
	functions map[string]FunctionState
}

// Function is a changed or new function.
type Function struct {
	Name string `json:"name"`
	// Bind is the binding in the original object (for Changed) or the
	// patched object (for New). Changed globals are LOCAL in the patch
	// object so nothing in the module binds to them by name.
	Bind elf.SymBind `json:"bind"`
	Size uint64      `json:"size"` // size of the new code
	// HasFentry reports a __fentry__ call at the start: required for
	// Changed functions, optional for New ones.
	HasFentry bool `json:"has_fentry"`
}

// Symbol is a symbol defined in the patch object.
type Symbol struct {
	Name    string      `json:"name"`
	Type    elf.SymType `json:"type"`
	Bind    elf.SymBind `json:"bind"` // binding in the patch object
	Section string      `json:"section"`
	Status  string      `json:"status"` // "CHANGED", "NEW" or "SAME"
}

// Relocation is a reference from the patch object to a symbol it does
// not define.
type Relocation struct {
	Section string       `json:"section"` // the section holding the relocation, e.g. ".text.foo"
	Offset  uint64       `json:"offset"`
	Type    elf.R_X86_64 `json:"type"`
	Addend  int64        `json:"addend"`

	Symbol  string      `json:"symbol"` // target name as in the original object
	Bind    elf.SymBind `json:"bind"`   // target binding in the original object (LOCAL for statics)
	SymType elf.SymType `json:"sym_type"`
	// DefinedInObject reports a target defined in the original object,
	// i.e. present in the parent's symbol table (a static or global of
	// this translation unit that was not included).
	DefinedInObject bool `json:"defined_in_object"`
	// Exported reports a target listed in Options.Exported.
	Exported bool `json:"exported"`
	// Livepatch reports that the reference must become a klp relocation
	// (.klp.rela.<parent>.<section> against .klp.sym.<parent>.<name>,<pos>):
	// the target is defined in the parent and not exported. Targets neither
	// defined here nor exported are resolved by build/internal/klp against the
	// parent's symbol table.
	Livepatch bool `json:"livepatch"`
}

// LivepatchSymbols returns the distinct targets of klp relocations, sorted
// as they first appear.
func (r *Result) LivepatchSymbols() []string {
	var out []string
	seen := map[string]bool{}
	for _, rel := range r.Relocations {
		if rel.Livepatch && !seen[rel.Symbol] {
			seen[rel.Symbol] = true
			out = append(out, rel.Symbol)
		}
	}
	return out
}

// WriteObject writes the patch object, an ELF relocatable holding the
// changed and new functions and what they need.
func (r *Result) WriteObject(w io.Writer) error {
	if r.out == nil {
		return fmt.Errorf("%s: no patch object (the diff failed)", r.Object)
	}
	return elfobj.Write(w, r.out)
}

// WriteFile writes the patch object to path atomically: a temporary file
// in the same directory renamed into place, never a partial file.
func (r *Result) WriteFile(path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing patch object: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := r.WriteObject(tmp); err != nil {
		return fmt.Errorf("writing patch object %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing patch object %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing patch object: %w", err)
	}
	return nil
}
