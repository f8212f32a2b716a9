// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"debug/elf"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// correlateFunctions pairs the functions that own their section (built
// with -ffunction-sections) by symbol: exact name first, then base name
// (clone numbers differ between builds), preferring identical code where
// several candidates share a base name. Their sections follow the
// functions. Section names never decide a function's identity: GCC moves
// whole functions between .text.<name> and .text.unlikely.<name> when a
// change makes them hot or cold, and .text.unlikely.foo may hold foo.cold
// in one build and all of foo in the other.
func (d *differ) correlateFunctions() {
	var origFns []*elfobj.Symbol
	candidates := map[string][]*elfobj.Symbol{} // patched functions by base name
	for _, s := range d.patched.f.Symbols[1:] {
		if d.patched.ownsFunctionSection(s) {
			candidates[baseName(s.Name)] = append(candidates[baseName(s.Name)], s)
		}
	}
	for _, a := range d.orig.f.Symbols[1:] {
		if d.orig.ownsFunctionSection(a) {
			origFns = append(origFns, a)
		}
	}
	pair := func(a, b *elfobj.Symbol) {
		d.pairSymbols(a, b)
		d.pairSections(a.Section, b.Section)
	}
	// Exact names first, so that foo.isra.1 never takes foo.isra.0's twin.
	for _, a := range origFns {
		for _, b := range candidates[baseName(a.Name)] {
			if b.Name == a.Name && d.patched.sym[b].twin == nil {
				pair(a, b)
				break
			}
		}
	}
	for _, a := range origFns {
		if d.orig.sym[a].twin != nil {
			continue
		}
		var first, same *elfobj.Symbol
		for _, b := range candidates[baseName(a.Name)] {
			if d.patched.sym[b].twin != nil || !namesMatch(a.Name, b.Name) {
				continue
			}
			if first == nil {
				first = b
			}
			if same == nil && bytes.Equal(a.Section.Data, b.Section.Data) {
				same = b
			}
		}
		if same != nil {
			first = same
		}
		if first != nil {
			pair(a, first)
		}
	}
}

// ownsFunctionSection reports a function that its section exists for
// (foo in .text.foo or .text.unlikely.foo, foo.cold in .text.unlikely.foo).
func (o *object) ownsFunctionSection(s *elfobj.Symbol) bool {
	return s.Type == elf.STT_FUNC && s.Section != nil && o.sec[s.Section].bundled == s &&
		!neverCorrelated(s.Name)
}

// isFunctionSection reports a section that a function owns: it is paired
// through its function by correlateFunctions, never by its name.
func (o *object) isFunctionSection(s *elfobj.Section) bool {
	b := o.sec[s].bundled
	return b != nil && b.Type == elf.STT_FUNC
}

// RuleUncorrelatedFunction is the Rule of the refusal of a function that
// both objects define under one name but the differ could not pair.
const RuleUncorrelatedFunction = "function defined in both objects could not be matched"

// checkNewFunctions refuses a "new" function that the original object
// defines under the same name: the module would carry it as new code
// while the running kernel went on calling the original, a livepatch
// that loads and fixes nothing.
func (d *differ) checkNewFunctions(res *Result) UnsupportedErrors {
	var errs UnsupportedErrors
	for _, fn := range res.New {
		a := d.orig.f.Symbol(fn.Name)
		if a == nil || a.Type != elf.STT_FUNC || a.Section == nil {
			continue
		}
		errs = append(errs, &UnsupportedError{Object: d.name, Symbol: fn.Name, Rule: RuleUncorrelatedFunction,
			Hint: "the patched build would add " + fn.Name + " as a new function and leave the running one in place; " +
				"please report this object pair (klpkit debug export), it is a differ limitation"})
	}
	return errs
}

// FunctionState is the differ's verdict on one function of the patched
// object, for checks made after the diff (build's check that every
// changed line is patched).
type FunctionState struct {
	Status string `json:"status"` // "CHANGED", "NEW" or "SAME"
	// Original is the name of the original object's twin; "" for NEW.
	Original string `json:"original"`
	// Parent is the function a .cold or .part child belongs to.
	Parent string `json:"parent"`
	// Included reports that the patch object carries the function.
	Included bool `json:"included"`
}

// Function returns the differ's verdict on the patched object's function
// name.
func (r *Result) Function(name string) (FunctionState, bool) {
	st, ok := r.functions[name]
	return st, ok
}

// functionStates records the verdict on every function of the patched
// object.
func (d *differ) functionStates() map[string]FunctionState {
	out := map[string]FunctionState{}
	for _, s := range d.patched.f.Symbols {
		if !isFunc(s) {
			continue
		}
		st := d.patched.sym[s]
		fs := FunctionState{Status: st.status.String(), Included: st.include}
		if st.twin != nil {
			fs.Original = st.twin.Name
		}
		if st.parent != nil {
			fs.Parent = st.parent.Name
		}
		out[s.Name] = fs
	}
	return out
}
