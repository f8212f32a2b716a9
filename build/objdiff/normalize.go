// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// pfxSize is the size of the __pfx_ padding symbol before a function built
// with call padding (CONFIG_CALL_PADDING).
const pfxSize = 16

// normalize prepares one object for comparison: it finds the symbol each
// function or data section exists for, links compiler children to their
// parents, notes which functions start with an ftrace call and rewrites
// relocations against section symbols into relocations against the symbol
// they point into.
func (o *object) normalize() error {
	o.bundle()
	if err := o.linkChildren(); err != nil {
		return err
	}
	o.replaceSectionReferences()
	o.findFentry()
	return nil
}

func (o *object) bundle() {
	for _, s := range o.f.Symbols {
		if (s.Type != elf.STT_FUNC && s.Type != elf.STT_OBJECT) || s.Section == nil {
			continue
		}
		owner := stripSectionPrefix(s.Section.Name)
		if owner == "" {
			continue
		}
		named := owner == s.Name
		if !named && s.Type == elf.STT_FUNC && strings.HasPrefix(s.Section.Name, ".text.unlikely.") {
			// gcc puts foo.cold in .text.unlikely.foo.
			if p, kind := parentName(s.Name); kind == "cold" && p == owner {
				named = true
			}
		}
		if !named {
			continue
		}
		if s.Value == 0 || (s.Value == pfxSize && o.f.Symbol("__pfx_"+s.Name) != nil) {
			o.sec[s.Section].bundled = s
		}
	}
}

// linkChildren attaches foo.cold and foo.part.N functions to foo.
func (o *object) linkChildren() error {
	byBase := map[string]*elfobj.Symbol{}
	for _, s := range o.f.Symbols {
		if isFunc(s) {
			if _, dup := byBase[baseName(s.Name)]; !dup {
				byBase[baseName(s.Name)] = s
			}
			if _, dup := byBase[s.Name]; !dup {
				byBase[s.Name] = s
			}
		}
	}
	for _, s := range o.f.Symbols {
		if !isFunc(s) {
			continue
		}
		pname, kind := parentName(s.Name)
		if kind == "" {
			continue
		}
		parent := byBase[pname]
		if parent == nil {
			parent = byBase[baseName(pname)]
		}
		if parent == nil || parent == s {
			if kind == "cold" {
				return &UnsupportedError{Object: o.name, Symbol: s.Name, Rule: "cold function without its parent function " + pname,
					Hint: "the object looks damaged or built by an unsupported compiler"}
			}
			continue // foo.part.N whose foo was fully inlined stands alone
		}
		o.sym[s].parent = parent
		o.sym[parent].children = append(o.sym[parent].children, s)
	}
	return nil
}

// replaceSectionReferences rewrites "section symbol + offset" relocations
// into "covering symbol + offset", so that both objects name the same
// targets whatever the section layout. String and .rodata targets keep
// their section symbol: they are compared by content.
func (o *object) replaceSectionReferences() {
	for _, rs := range o.f.Sections {
		if !rs.IsRela() || rs.Target == nil || isDebug(rs) {
			continue
		}
		for _, r := range rs.Relas {
			if r.Sym.Type != elf.STT_SECTION || r.Sym.Section == nil {
				continue
			}
			sec := r.Sym.Section
			if b := o.sec[sec].bundled; b != nil {
				if b.Value == 0 {
					r.Sym = b
					continue
				}
				if t := o.targetOffset(rs.Target, r); t >= int64(b.Value) {
					r.Sym, r.Addend = b, r.Addend-int64(b.Value)
				}
				continue
			}
			if isStringSection(sec) || strings.HasPrefix(sec.Name, ".rodata") {
				continue
			}
			t := o.targetOffset(rs.Target, r)
			if s := o.covering(sec, t); s != nil {
				r.Sym, r.Addend = s, r.Addend-int64(s.Value)
			}
		}
	}
}

// covering finds the FUNC or OBJECT symbol of sec that contains offset t.
func (o *object) covering(sec *elfobj.Section, t int64) *elfobj.Symbol {
	var zeroSized *elfobj.Symbol
	for _, s := range o.sec[sec].defined {
		if t >= int64(s.Value) && t < int64(s.Value+s.Size) {
			return s
		}
		if s.Size == 0 && t == int64(s.Value) && zeroSized == nil {
			zeroSized = s
		}
	}
	return zeroSized
}

// findFentry marks functions whose first relocation is the ftrace call.
func (o *object) findFentry() {
	for _, s := range o.f.Symbols {
		if !isFunc(s) {
			continue
		}
		for _, r := range relas(s.Section) {
			if r.Offset < s.Value || r.Offset >= s.Value+s.Size {
				continue
			}
			if isFentry(r.Sym) && (r.Type == elf.R_X86_64_NONE || isPCRelative(r.Type)) {
				o.sym[s].fentry = true
			}
			break // only the function's first relocation counts
		}
	}
}
