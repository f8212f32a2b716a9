// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// classify lists changed and new functions.
func (d *differ) classify() *Result {
	res := &Result{Object: d.name, Parent: d.opts.Parent}
	p := d.patched
	for _, s := range p.f.Symbols {
		st := p.sym[s]
		if !isFunc(s) || st.parent != nil || strings.HasPrefix(s.Name, "__pfx_") {
			continue
		}
		fn := Function{Name: s.Name, Bind: s.Bind, Size: s.Size, HasFentry: st.fentry}
		switch st.status {
		case statusChanged:
			// The running kernel knows the original's name (clone
			// numbers differ between builds).
			fn.Name, fn.Bind = st.twin.Name, st.twin.Bind
			res.Changed = append(res.Changed, fn)
		case statusNew:
			if d.isIgnoredNew(s) {
				continue
			}
			res.New = append(res.New, fn)
		}
	}
	return res
}

// isIgnoredNew skips new functions in sections that are never included.
func (d *differ) isIgnoredNew(s *elfobj.Symbol) bool {
	return !strings.HasPrefix(s.Section.Name, ".text") || strings.HasPrefix(s.Section.Name, ".init") || strings.HasPrefix(s.Section.Name, ".exit")
}

func isCallbackSection(s *elfobj.Section) bool {
	return strings.HasPrefix(s.Name, ".kpatch.callbacks.") || s.Name == ".kpatch.force" ||
		strings.HasPrefix(s.Name, ".discard.klp.") || strings.HasPrefix(s.Name, ".klp.")
}

func (d *differ) hasCallbacks() bool {
	for _, s := range d.patched.f.Sections {
		if isCallbackSection(s) && !s.IsRela() && d.patched.sec[s].status == statusNew {
			return true
		}
	}
	return false
}

// substantialChange reports a changed section that must either be
// included or refused, so the object cannot be "unchanged".
func (d *differ) substantialChange() bool {
	for _, s := range d.patched.f.Sections[1:] {
		if !s.IsRela() && d.patched.sec[s].status == statusChanged && d.mustIncludeIfChanged(s) {
			return true
		}
	}
	return false
}

// checkFentry refuses changed functions whose original cannot be
// redirected because it has no ftrace call at its start.
func (d *differ) checkFentry() UnsupportedErrors {
	var errs UnsupportedErrors
	for _, s := range d.patched.f.Symbols {
		st := d.patched.sym[s]
		if !isFunc(s) || st.parent != nil || st.status != statusChanged || st.twin == nil || d.orig.sym[st.twin].fentry {
			continue
		}
		errs = append(errs, &UnsupportedError{Object: d.name, Symbol: st.twin.Name, Section: s.Section.Name,
			Rule: "function doesn't have a patchable function entry (no __fentry__ call)",
			Hint: "the kernel cannot redirect it: patch its callers instead, or if it is marked inline (which implies notrace) use __always_inline"})
	}
	return errs
}

// include selects what the patch object holds: standard sections, changed
// functions, new globals, callback sections, special-section entries of
// included functions, and, transitively, what those reference.
func (d *differ) include() error {
	p := d.patched
	p.sym[p.f.Symbols[0]].include = true
	for _, s := range p.f.Sections[1:] {
		if s.Name == ".rodata" || (isStringSection(s) && !s.IsRela() && !strings.HasPrefix(s.Name, "__ksymtab")) {
			d.includeSection(s)
		}
	}
	for _, s := range p.f.Symbols {
		switch {
		case s.Type == elf.STT_FILE:
			p.sym[s].include = true
		case isFunc(s) && p.sym[s].status == statusChanged:
			d.includeSymbol(s)
		case s.Bind != elf.STB_LOCAL && s.Section != nil && p.sym[s].status == statusNew && !d.isIgnoredNewSymbol(s):
			d.includeSymbol(s)
		}
	}
	for _, s := range p.f.Sections[1:] {
		if isCallbackSection(s) && !s.IsRela() {
			d.includeSection(s)
		}
	}
	return d.includeSpecialSections()
}

func (d *differ) isIgnoredNewSymbol(s *elfobj.Symbol) bool {
	n := s.Section.Name
	return strings.HasPrefix(n, ".init") || strings.HasPrefix(n, ".exit") || strings.HasPrefix(n, "__ksymtab") ||
		strings.HasPrefix(n, ".discard") || strings.HasPrefix(n, "___ksymtab") || strings.HasPrefix(n, ".kpatch.ignore.")
}

// includeSymbol includes a symbol and, unless it is an unchanged function
// or object (which stays a reference to the running kernel), its section.
// A .cold part is always included with its section, changed or not: it is
// the tail of its parent's code and jumps back into the middle of it, so
// the running kernel's copy would return into the original parent.
func (d *differ) includeSymbol(s *elfobj.Symbol) {
	st := d.patched.sym[s]
	st.include = true
	if s.Section == nil {
		return
	}
	if s.Type == elf.STT_SECTION || st.status != statusSame || d.patched.isColdPart(s) {
		d.includeSection(s.Section)
	}
}

// isColdPart reports a function that is the .cold part of another.
func (o *object) isColdPart(s *elfobj.Symbol) bool {
	if !isFunc(s) || o.sym[s].parent == nil {
		return false
	}
	_, kind := parentName(s.Name)
	return kind == "cold"
}

func (d *differ) includeSection(sec *elfobj.Section) {
	p := d.patched
	st := p.sec[sec]
	if st.include {
		return
	}
	st.include = true
	if ss := p.sectionSymbol(sec); ss != nil {
		p.sym[ss].include = true
	}
	for _, s := range st.defined {
		p.sym[s].include = true
	}
	for _, s := range st.defined {
		// A parent's code comes with its .cold parts, even if it does not
		// reference them through this section's relocations.
		for _, c := range p.sym[s].children {
			if p.isColdPart(c) {
				d.includeSymbol(c)
			}
		}
	}
	if sec.Rela == nil || isSpecial(sec.Name) {
		return
	}
	p.sec[sec.Rela].include = true
	for _, r := range sec.Rela.Relas {
		d.includeSymbol(r.Sym)
	}
}

// mustIncludeIfChanged reports sections whose change can only be shipped
// by including them: code and data, not metadata regenerated per entry.
func (d *differ) mustIncludeIfChanged(s *elfobj.Section) bool {
	switch {
	case s.Type == elf.SHT_NOBITS && !isData(s):
		return false
	case isSpecial(s.Name), isDebug(s), alwaysSame[s.Name], s.Flags&elf.SHF_ALLOC == 0,
		s.Flags&elf.SHF_MERGE != 0, isStringSection(s), isCallbackSection(s):
		return false
	case s.Name == ".altinstr_replacement", s.Name == ".altinstr_aux", s.Name == ".fixup",
		strings.HasPrefix(s.Name, "__ksymtab"), strings.HasPrefix(s.Name, "___ksymtab"):
		return false
	}
	return isText(s) || isData(s) || d.patched.sec[s].bundled != nil || strings.HasPrefix(s.Name, ".rodata")
}

// verifyInclusion refuses changed sections that were not included (e.g.
// __init code), existing data sections that were (their state would fork
// between kernel and patch), and changes inside section groups.
func (d *differ) verifyInclusion() UnsupportedErrors {
	errs := d.verifyGroups()
	for _, s := range d.patched.f.Sections[1:] {
		st := d.patched.sec[s]
		if s.IsRela() {
			continue
		}
		if st.status == statusChanged && !st.include && d.mustIncludeIfChanged(s) {
			rule, hint := "changed section not selected for inclusion", "only changes to functions with an ftrace entry can be patched"
			switch {
			case strings.HasPrefix(s.Name, ".init") || strings.HasPrefix(s.Name, ".exit"):
				hint = "__init and __exit code has run already or never runs in a live kernel: leave it unchanged"
			case isData(s) || strings.HasPrefix(s.Name, ".rodata"):
				rule, hint = "changed data", "existing data cannot change in a live patch: use a shadow variable (klp_shadow_*) or a callback"
			}
			name := ""
			if b := st.bundled; b != nil {
				name = b.Name
			}
			errs = append(errs, &UnsupportedError{Object: d.name, Symbol: name, Section: s.Name, Rule: rule, Hint: hint})
		}
		if st.include && st.status != statusNew && isData(s) {
			errs = append(errs, &UnsupportedError{Object: d.name, Section: s.Name, Rule: "data section selected for inclusion",
				Hint: "a patch cannot take over existing data: reference it instead of changing it, or use a shadow variable"})
		}
	}
	return errs
}

// verifyGroups refuses changed or new sections that belong to a section
// group (COMDAT) and must go into the patch object. The patch object does
// not carry groups: dropping one silently would change how the linker
// treats the code (deduplication against other copies), so the patch
// author is told instead.
func (d *differ) verifyGroups() UnsupportedErrors {
	var errs UnsupportedErrors
	p := d.patched
	for _, g := range p.f.Sections[1:] {
		if g.Type != elf.SHT_GROUP {
			continue
		}
		for _, m := range g.GroupMember {
			st := p.sec[m]
			if m.IsRela() || st.status == statusSame || !(st.include || d.mustIncludeIfChanged(m)) {
				continue
			}
			sig := ""
			if g.GroupSig != nil {
				sig = g.GroupSig.Name
			}
			errs = append(errs, &UnsupportedError{Object: d.name, Symbol: sig, Section: m.Name,
				Rule: fmt.Sprintf("%s section is part of section group %s (COMDAT)", strings.ToLower(st.status.String()), sig),
				Hint: "section groups cannot be carried into a livepatch: move the changed code out of the group, or patch its callers"})
		}
	}
	return errs
}
