// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// Patch authors can exclude changes with kpatch's macros:
// KPATCH_IGNORE_FUNCTION(f) puts a pointer to f in .kpatch.ignore.functions
// and KPATCH_IGNORE_SECTION("name") a pointer to the section name string
// in .kpatch.ignore.sections. Ignored functions and sections count as
// unchanged and are not included.
func (d *differ) applyIgnores() {
	p := d.patched
	if sec := p.f.Section(".kpatch.ignore.functions"); sec != nil {
		for _, r := range relas(sec) {
			if fn := r.Sym; isFunc(fn) {
				d.ignoreSymbol(fn)
			}
		}
	}
	if sec := p.f.Section(".kpatch.ignore.sections"); sec != nil {
		for _, r := range relas(sec) {
			if r.Sym.Section == nil || !isStringSection(r.Sym.Section) {
				continue
			}
			name := p.stringAt(sec, r)
			if ign := p.f.Section(name); ign != nil {
				p.sec[ign].status = statusSame
				if ign.Rela != nil {
					p.sec[ign.Rela].status = statusSame
				}
				for _, s := range p.f.Symbols {
					if s.Section == ign {
						p.sym[s].status = statusSame
					}
				}
			}
		}
	}
}

func (d *differ) ignoreSymbol(fn *elfobj.Symbol) {
	p := d.patched
	p.sym[fn].status = statusSame
	if p.sec[fn.Section].bundled == fn {
		p.sec[fn.Section].status = statusSame
		if fn.Section.Rela != nil {
			p.sec[fn.Section.Rela].status = statusSame
		}
		if ss := p.sectionSymbol(fn.Section); ss != nil && ss.Type == elf.STT_SECTION {
			p.sym[ss].status = statusSame
		}
	}
	for _, c := range p.sym[fn].children {
		d.ignoreSymbol(c)
	}
}
