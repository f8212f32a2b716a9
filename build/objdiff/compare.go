// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// alwaysSame are sections regenerated for the output whatever they hold.
var alwaysSame = map[string]bool{"__mcount_loc": true, ".sframe": true, "__patchable_function_entries": true}

// compare sets the status of every section and symbol of the patched
// object and collects changes that cannot be patched.
func (d *differ) compare() error {
	var errs UnsupportedErrors
	for _, b := range d.patched.f.Sections[1:] {
		st := d.patched.sec[b]
		a := st.twin
		if b.IsRela() || b.Type == elf.SHT_SYMTAB || b.Type == elf.SHT_STRTAB || b.Type == elf.SHT_SYMTAB_SHNDX {
			continue
		}
		if a == nil {
			st.status = statusNew
			continue
		}
		if a.Type != b.Type || a.Flags != b.Flags || a.Entsize != b.Entsize || (!isText(a) && a.Addralign != b.Addralign) {
			errs = append(errs, &UnsupportedError{Object: d.name, Section: b.Name,
				Rule: "section type, flags, entry size or alignment changed", Hint: "keep the declaration's attributes as they were"})
			continue
		}
		hits := d.nameState().lineHits
		st.status = d.compareSection(a, b)
		d.orig.sec[a].status = st.status
		if st.status == statusChanged && isText(b) && (d.onlyLineNumbersChanged(a, b) || d.onlyInitReferencesChanged(a, b)) {
			st.status, d.orig.sec[a].status = statusSame, statusSame
		}
		if st.status == statusSame {
			d.noteLineOnly(b, hits)
		}
	}
	for _, b := range d.patched.f.Sections[1:] {
		if b.IsRela() && b.Target != nil {
			d.patched.sec[b].status = d.patched.sec[b.Target].status
		}
	}
	errs = append(errs, d.compareSymbols()...)
	d.propagateChildren()
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// onlyInitReferencesChanged accepts __init/__exit code whose instructions
// are unchanged and whose relocations only point at other strings or
// symbols: init code has run already, so what it would print or call
// differently cannot matter to the live kernel. Changed init instructions
// are still refused (verifyInclusion), and so is an object whose only
// change is of this kind (initOnlyRefusal).
func (d *differ) onlyInitReferencesChanged(a, b *elfobj.Section) bool {
	if !strings.HasPrefix(b.Name, ".init.") && !strings.HasPrefix(b.Name, ".exit.") {
		return false
	}
	if !bytes.Equal(a.Data, b.Data) || len(relas(a)) != len(relas(b)) {
		return false
	}
	for i, x := range relas(a) {
		if y := relas(b)[i]; x.Offset != y.Offset || x.Type != y.Type {
			return false
		}
	}
	d.warnf("%s: only the strings or symbols referenced by init code changed; init code is not patched", b.Name)
	d.initOnly = append(d.initOnly, b.Name)
	return true
}

func (d *differ) compareSection(a, b *elfobj.Section) status {
	switch {
	case alwaysSame[a.Name]:
		return statusSame
	case a.Type == elf.SHT_NOBITS:
		if a.Size != b.Size {
			return statusChanged
		}
		return statusSame
	case !bytes.Equal(a.Data, b.Data), (a.Rela == nil) != (b.Rela == nil):
		return statusChanged
	case a.Rela != nil && !d.relasEqual(a, b):
		return statusChanged
	}
	return statusSame
}

func (d *differ) relasEqual(a, b *elfobj.Section) bool {
	ra, rb := relas(a), relas(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if x.Type != y.Type || x.Offset != y.Offset || !d.sameRef(a, x, b, y, 0) {
			return false
		}
	}
	return true
}

// stringAt returns the string literal a relocation in sec points at.
func (o *object) stringAt(sec *elfobj.Section, r *elfobj.Rela) string {
	data := r.Sym.Section.Data
	off := int64(r.Sym.Value) + o.targetOffset(sec, r)
	if off < 0 || off >= int64(len(data)) {
		return fmt.Sprintf("<offset %d>", off)
	}
	s := data[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

func (d *differ) compareSymbols() UnsupportedErrors {
	var errs UnsupportedErrors
	for _, b := range d.patched.f.Symbols[1:] {
		st := d.patched.sym[b]
		a := st.twin
		switch {
		case a == nil:
			st.status = statusNew
			continue
		case b.Section != nil && (d.patched.sec[b.Section].bundled == b || b.Type == elf.STT_SECTION):
			st.status = d.patched.sec[b.Section].status
		default:
			st.status = statusSame
		}
		d.orig.sym[a].status = st.status
		if b.Type == elf.STT_SECTION || b.Type == elf.STT_FILE {
			continue
		}
		fail := func(rule, hint string) {
			errs = append(errs, &UnsupportedError{Object: d.name, Symbol: b.Name, Rule: rule, Hint: hint})
		}
		if a.Bind != b.Bind || a.Type != b.Type {
			fail(fmt.Sprintf("symbol changed from %v %v to %v %v", a.Bind, a.Type, b.Bind, b.Type),
				"keep the symbol's linkage (static or global) and kind as it was")
		}
		if a.Section != nil && b.Section != nil && d.orig.sec[a.Section].twin != b.Section && !movedBetweenText(a.Section, b.Section) {
			fail(fmt.Sprintf("symbol moved from section %s to %s", a.Section.Name, b.Section.Name), "keep the symbol in its section (no new __init, __cold or section attributes)")
		}
		if a.Type == elf.STT_OBJECT && a.Section != nil && b.Section != nil && a.Size != b.Size {
			fail(fmt.Sprintf("object size mismatch (%d to %d bytes)", a.Size, b.Size),
				"existing data cannot change layout: use a shadow variable (klp_shadow_*) for new fields")
		}
	}
	return errs
}

func movedBetweenText(a, b *elfobj.Section) bool {
	textish := func(n string) bool {
		return n == ".text" || strings.HasPrefix(n, ".text.")
	}
	return textish(a.Name) && textish(b.Name)
}

// propagateChildren marks a function CHANGED when one of its .cold or
// .part children changed: children have no ftrace entry of their own, so
// only the parent can redirect to the new code.
func (d *differ) propagateChildren() {
	for changed := true; changed; {
		changed = false
		for _, s := range d.patched.f.Symbols {
			st := d.patched.sym[s]
			if st.parent == nil || st.status == statusSame || st.fentry {
				continue
			}
			if ps := d.patched.sym[st.parent]; ps.status == statusSame {
				ps.status = statusChanged
				changed = true
			}
		}
	}
}

// RuleInitChanged is the Rule of the refusal of an object whose only change
// is in __init or __exit code.
const RuleInitChanged = "init-changed: only __init/__exit code changed"

// initOnlyRefusal refuses an object whose only changes are strings or
// symbols referenced by __init/__exit code. Such a change has no effect on
// the running kernel, but "no changes" would tell the patch author that
// the source change was understood and needs nothing; it does need
// something, a reboot (or a module reload), and the author should know.
func (d *differ) initOnlyRefusal() UnsupportedErrors {
	var errs UnsupportedErrors
	for _, sec := range d.initOnly {
		errs = append(errs, &UnsupportedError{Object: d.name, Section: sec, Rule: RuleInitChanged,
			Hint: "the change only affects boot-time (or module load/unload) code, which a livepatch cannot re-run: " +
				"it takes effect only after a reboot or module reload; leave this object out of the patch or move the fix into code that runs later"})
	}
	return errs
}
