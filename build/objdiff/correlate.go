// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"fmt"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// differ holds both objects while they are compared.
type differ struct {
	name     string
	orig     *object
	patched  *object
	opts     *Options
	warnings []string
	// initOnly lists __init/__exit sections whose only change is what they
	// reference (see onlyInitReferencesChanged).
	initOnly []string
	// rebuilt maps special sections to their filtered copies.
	rebuilt map[*elfobj.Section]*elfobj.Section
	// names is the state of comparisons by content (content.go).
	names *nameState
}

func (d *differ) warnf(format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
}

func (d *differ) pairSections(a, b *elfobj.Section) {
	d.orig.sec[a].twin, d.patched.sec[b].twin = b, a
	if a.Rela != nil && b.Rela != nil {
		d.orig.sec[a.Rela].twin, d.patched.sec[b.Rela].twin = b.Rela, a.Rela
	}
}

func (d *differ) pairSymbols(a, b *elfobj.Symbol) {
	d.orig.sym[a].twin, d.patched.sym[b].twin = b, a
}

// skipCorrelation reports sections that belong to never-correlated or
// static-local symbols; their pairing comes from symbol analysis.
func (o *object) skipCorrelation(s *elfobj.Section) bool {
	if isUbsanData(s) {
		return true
	}
	b := o.sec[s].bundled
	return b != nil && (neverCorrelated(b.Name) || isStaticLocal(b))
}

// correlate pairs functions by symbol, then the other sections by name,
// then the other symbols, first match in file order.
func (d *differ) correlate() error {
	d.correlateFunctions()
	// Sections by name; relocation sections follow their base section.
	// Function sections were paired through their functions.
	byName := map[string][]*elfobj.Section{}
	for _, s := range d.patched.f.Sections[1:] {
		if s.IsRela() || d.patched.skipCorrelation(s) || d.patched.isFunctionSection(s) {
			continue
		}
		k := baseName(s.Name)
		byName[k] = append(byName[k], s)
	}
	for _, a := range d.orig.f.Sections[1:] {
		if a.IsRela() || d.orig.skipCorrelation(a) || d.orig.isFunctionSection(a) {
			continue
		}
		for _, b := range byName[baseName(a.Name)] {
			if d.patched.sec[b].twin == nil && namesMatch(a.Name, b.Name) {
				d.pairSections(a, b)
				break
			}
		}
	}
	// Symbols: section symbols and bundled symbols follow their sections;
	// others pair by name and type, first match in file order.
	symByBase := map[string][]*elfobj.Symbol{}
	for _, b := range d.patched.f.Symbols[1:] {
		k := baseName(b.Name)
		symByBase[k] = append(symByBase[k], b)
	}
	for _, a := range d.orig.f.Symbols[1:] {
		if a.Type == elf.STT_SECTION {
			if a.Section != nil {
				if tw := d.orig.sec[a.Section].twin; tw != nil {
					if b := d.patched.sectionSymbol(tw); b != nil && d.patched.sym[b].twin == nil {
						d.pairSymbols(a, b)
					}
				}
			}
			continue
		}
		if neverCorrelated(a.Name) || isStaticLocal(a) || a.Type == elf.STT_FILE || d.orig.sym[a].twin != nil {
			continue
		}
		if a.Section != nil && d.orig.sec[a.Section].bundled == a {
			if tw := d.orig.sec[a.Section].twin; tw != nil {
				if b := d.patched.sec[tw].bundled; b != nil && b.Type == a.Type && namesMatch(a.Name, b.Name) && d.patched.sym[b].twin == nil {
					d.pairSymbols(a, b)
					continue
				}
			}
		}
		for _, b := range symByBase[baseName(a.Name)] {
			if d.patched.sym[b].twin == nil && b.Type == a.Type && namesMatch(a.Name, b.Name) &&
				!neverCorrelated(b.Name) && !isStaticLocal(b) && d.bundlingAgrees(a, b) {
				d.pairSymbols(a, b)
				if a.Section != nil && b.Section != nil && d.orig.sec[a.Section].bundled == a {
					// A function that moved between .text, .text.hot and
					// .text.unlikely: its sections are twins too.
					d.pairSections(a.Section, b.Section)
				}
				break
			}
		}
	}
	// FILE symbols pair by name.
	for _, a := range d.orig.f.Symbols[1:] {
		if a.Type == elf.STT_FILE {
			if b := d.patched.f.Symbol(a.Name); b != nil && b.Type == elf.STT_FILE {
				d.pairSymbols(a, b)
			}
		}
	}
	return d.correlateStaticLocals()
}

// bundlingAgrees keeps a bundled symbol from pairing with a symbol whose
// section is not its section's twin (e.g. foo.isra.0 with another clone).
func (d *differ) bundlingAgrees(a, b *elfobj.Symbol) bool {
	if a.Section == nil || b.Section == nil {
		return true
	}
	ab, bb := d.orig.sec[a.Section].bundled == a, d.patched.sec[b.Section].bundled == b
	if ab != bb {
		return false
	}
	if ab {
		ta, tb := d.orig.sec[a.Section].twin, d.patched.sec[b.Section].twin
		if ta == nil && tb == nil {
			return isText(a.Section) && isText(b.Section)
		}
		return ta == b.Section
	}
	return true
}

func (o *object) sectionSymbol(s *elfobj.Section) *elfobj.Symbol {
	return o.sec[s].symbol
}

// referencedStatics returns the static locals a function (and its
// children) refers to, in relocation order.
func (o *object) referencedStatics(fn *elfobj.Symbol) []*elfobj.Symbol {
	var out []*elfobj.Symbol
	seen := map[*elfobj.Symbol]bool{}
	funcs := append([]*elfobj.Symbol{fn}, o.sym[fn].children...)
	for _, f := range funcs {
		if f.Section == nil || o.sec[f.Section].bundled != f {
			continue
		}
		for _, r := range relas(f.Section) {
			if isStaticLocal(r.Sym) && !seen[r.Sym] {
				seen[r.Sym] = true
				out = append(out, r.Sym)
			}
		}
	}
	return out
}

// correlateStaticLocals pairs function-scope statics by their users: a
// static referenced by an original function pairs with the same-named,
// same-sized static its patched twin references.
func (d *differ) correlateStaticLocals() error {
	var errs UnsupportedErrors
	for _, fn := range d.orig.f.Symbols {
		if !isFunc(fn) || d.orig.sym[fn].parent != nil {
			continue
		}
		twin := d.orig.sym[fn].twin
		var candidates []*elfobj.Symbol
		if twin != nil {
			candidates = d.patched.referencedStatics(twin)
			// A static may have moved into the twin's .part parent.
			for p := d.patched.sym[twin].parent; p != nil; p = d.patched.sym[p].parent {
				candidates = append(candidates, d.patched.referencedStatics(p)...)
			}
		}
		for _, v := range d.orig.referencedStatics(fn) {
			if d.orig.sym[v].twin != nil {
				continue
			}
			var match *elfobj.Symbol
			for _, c := range candidates {
				if d.patched.sym[c].twin == nil && baseName(c.Name) == baseName(v.Name) && c.Size == v.Size {
					match = c
					break
				}
			}
			if match == nil {
				if twin == nil {
					continue // the function went away; nothing references v any more
				}
				errs = append(errs, &UnsupportedError{Object: d.name, Symbol: v.Name,
					Rule: fmt.Sprintf("patched %s no longer uses its static local variable %s, whose state the running kernel holds", fn.Name, v.Name),
					Hint: "keep a reference to the variable in " + fn.Name + " so its state can be shared"})
				continue
			}
			d.pairSymbols(v, match)
			if v.Section != nil && match.Section != nil && d.orig.sec[v.Section].bundled == v {
				d.pairSections(v.Section, match.Section)
				if a, b := d.orig.sectionSymbol(v.Section), d.patched.sectionSymbol(match.Section); a != nil && b != nil {
					d.pairSymbols(a, b)
				}
			}
		}
	}
	d.correlateUniqueStatics()
	for _, s := range d.patched.f.Symbols {
		if isStaticLocal(s) && d.patched.sym[s].twin == nil && d.orig.anyStatic(baseName(s.Name)) && !d.newUniqueStatic(s) {
			d.warnf("unable to correlate static local variable %s; it is new in the patch", s.Name)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (o *object) anyStatic(base string) bool {
	for _, s := range o.f.Symbols {
		if isStaticLocal(s) && baseName(s.Name) == base {
			return true
		}
	}
	return false
}
