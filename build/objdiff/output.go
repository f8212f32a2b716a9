// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// output assembles the patch object from the patched object.
type output struct {
	d   *differ
	f   *elfobj.File
	sec map[*elfobj.Section]*elfobj.Section // patched (or rebuilt) -> output
	sym map[*elfobj.Symbol]*elfobj.Symbol
	res *Result
	// originals are undefined references to the running kernel's copy of
	// changed functions whose address the patch takes.
	originals map[*elfobj.Symbol]*elfobj.Symbol
}

// buildOutput creates the patch object and fills the Result's symbol and
// relocation lists.
func (d *differ) buildOutput(res *Result) error {
	p := d.patched
	o := &output{d: d, res: res, sec: map[*elfobj.Section]*elfobj.Section{}, sym: map[*elfobj.Symbol]*elfobj.Symbol{},
		originals: map[*elfobj.Symbol]*elfobj.Symbol{},
		f:         &elfobj.File{OSABI: p.f.OSABI, ABIVersion: p.f.ABIVersion, Machine: p.f.Machine, Flags: p.f.Flags}}
	o.f.Sections = append(o.f.Sections, &elfobj.Section{})
	sources := map[*elfobj.Section]*elfobj.Section{} // output -> the section it copies
	for _, s := range p.f.Sections[1:] {
		src := s
		if r, ok := d.rebuilt[s]; ok {
			src = r
		} else if s.IsRela() || isSpecial(s.Name) || s.Type == elf.SHT_GROUP || s.Name == "__mcount_loc" ||
			(!p.sec[s].include && s.Name != ".note.GNU-stack" && !isDebug(s)) {
			continue
		}
		out := &elfobj.Section{Name: src.Name, Type: src.Type, Flags: src.Flags &^ elf.SHF_GROUP, Addr: src.Addr,
			Addralign: src.Addralign, Entsize: src.Entsize, Size: src.Size, Data: src.Data, Info: src.Info}
		o.sec[s], o.sec[src] = out, out
		sources[out] = src
		o.f.Sections = append(o.f.Sections, out)
	}
	// Link fields of kept sections (SHF_LINK_ORDER) must point at kept ones.
	for out, src := range sources {
		if src.Link != nil {
			out.Link = o.sec[src.Link]
			if out.Link == nil {
				out.Flags &^= elf.SHF_LINK_ORDER
			}
		} else {
			out.Flags &^= elf.SHF_LINK_ORDER
		}
	}
	o.symbols()
	for _, s := range p.f.Sections[1:] {
		src := s
		if r, ok := d.rebuilt[s]; ok {
			src = r
		}
		if out := o.sec[s]; out != nil && src.Rela != nil {
			o.relocations(src, out)
		}
	}
	o.mcountLoc()
	for _, s := range o.f.Symbols {
		if s.Section != nil && (s.Type == elf.STT_FUNC || s.Type == elf.STT_OBJECT) {
			st := p.sym[o.source(s)]
			res.Included = append(res.Included, Symbol{Name: s.Name, Type: s.Type, Bind: s.Bind, Section: s.Section.Name, Status: st.status.String()})
		}
	}
	res.Warnings = append(res.Warnings, d.warnings...)
	res.out = o.f
	return nil
}

// source maps an output symbol back to the patched one.
func (o *output) source(s *elfobj.Symbol) *elfobj.Symbol {
	for src, out := range o.sym {
		if out == s {
			return src
		}
	}
	return nil
}

// symbols copies included symbols. Symbols of sections left out become
// undefined references; changed globals become LOCAL so nothing binds to
// them by name before the livepatch core redirects the originals.
func (o *output) symbols() {
	p := o.d.patched
	for i, s := range p.f.Symbols {
		st := p.sym[s]
		if i > 0 && !st.include && (s.Section == nil || o.sec[s.Section] == nil) {
			continue
		}
		if s.Type == elf.STT_SECTION && (s.Section == nil || o.sec[s.Section] == nil) {
			continue
		}
		out := *s
		if st.twin != nil && (s.Type == elf.STT_FUNC || s.Type == elf.STT_OBJECT) {
			out.Name = st.twin.Name // the name the running kernel knows
		}
		if s.Section != nil {
			out.Section = o.sec[s.Section]
		}
		if s.Section != nil && out.Section == nil {
			// Not included: a reference to the running kernel's copy.
			out.Section, out.Shndx, out.Value, out.Size = nil, elf.SHN_UNDEF, 0, 0
			if out.Bind == elf.STB_LOCAL {
				out.Bind = elf.STB_GLOBAL
			}
		} else if st.status == statusChanged && s.Type == elf.STT_FUNC && s.Bind != elf.STB_LOCAL {
			out.Bind = elf.STB_LOCAL
		}
		o.sym[s] = &out
		o.f.Symbols = append(o.f.Symbols, &out)
	}
}

func (o *output) outSym(s *elfobj.Symbol) *elfobj.Symbol {
	if out := o.sym[s]; out != nil {
		return out
	}
	// Referenced only from a rebuilt special section: add it undefined.
	out := &elfobj.Symbol{Name: s.Name, Bind: s.Bind, Type: s.Type, Shndx: elf.SHN_UNDEF}
	if out.Bind == elf.STB_LOCAL {
		out.Bind = elf.STB_GLOBAL
	}
	if out.Type == elf.STT_SECTION {
		out.Type = elf.STT_NOTYPE
	}
	o.sym[s] = out
	o.f.Symbols = append(o.f.Symbols, out)
	return out
}

// relocations copies a section's relocations and records those left for
// the linker stage.
func (o *output) relocations(src, out *elfobj.Section) {
	rs := &elfobj.Section{Name: src.Rela.Name, Type: elf.SHT_RELA, Flags: src.Rela.Flags &^ elf.SHF_GROUP, Addralign: 8, Entsize: 24, Target: out}
	out.Rela = rs
	for _, r := range src.Rela.Relas {
		if isDebug(out) {
			// Debug info keeps only what describes the patch object's own
			// code and data; other entries are left unrelocated.
			if t := o.sym[r.Sym]; t != nil && t.Section != nil {
				rs.Relas = append(rs.Relas, &elfobj.Rela{Offset: r.Offset, Type: r.Type, Sym: t, Addend: r.Addend})
			}
			continue
		}
		target := o.outSym(r.Sym)
		if o.takesAddressOfChanged(src, r) {
			target = o.originalOf(r.Sym)
		}
		rs.Relas = append(rs.Relas, &elfobj.Rela{Offset: r.Offset, Type: r.Type, Sym: target, Addend: r.Addend})
		if !target.IsUndefined() {
			continue
		}
		orig := o.d.patched.sym[r.Sym].twin
		if target.Section == nil && orig != nil && target.Name == orig.Name && o.originals[r.Sym] == target {
			// A pointer to a changed function: the original's address.
			rel := Relocation{Section: out.Name, Offset: r.Offset, Type: r.Type, Addend: r.Addend,
				Symbol: orig.Name, Bind: orig.Bind, SymType: orig.Type, DefinedInObject: true, Exported: o.d.opts.Exported[orig.Name]}
			rel.Livepatch = !rel.Exported
			o.res.Relocations = append(o.res.Relocations, rel)
			continue
		}
		rel := Relocation{Section: out.Name, Offset: r.Offset, Type: r.Type, Addend: r.Addend,
			Symbol: r.Sym.Name, Bind: r.Sym.Bind, SymType: r.Sym.Type, Exported: o.d.opts.Exported[r.Sym.Name]}
		if orig != nil {
			rel.Symbol, rel.Bind, rel.SymType = orig.Name, orig.Bind, orig.Type
			rel.DefinedInObject = orig.Section != nil
		}
		rel.Livepatch = rel.DefinedInObject && !rel.Exported
		o.res.Relocations = append(o.res.Relocations, rel)
	}
	o.f.Sections = append(o.f.Sections, rs)
}

// mcountLoc regenerates __mcount_loc: one R_X86_64_64 entry per changed
// or new function with an ftrace call, pointing at that call.
func (o *output) mcountLoc() {
	p := o.d.patched
	var entries []*elfobj.Rela
	for _, s := range p.f.Symbols {
		st := p.sym[s]
		out := o.sym[s]
		if !isFunc(s) || !st.fentry || st.status == statusSame || out == nil || out.Section == nil || strings.HasPrefix(s.Name, "__pfx_") {
			continue
		}
		for _, r := range relas(s.Section) {
			if r.Offset >= s.Value && isFentry(r.Sym) {
				call := int64(r.Offset) - 1 - int64(s.Value) // the call opcode precedes the field
				if r.Type == elf.R_X86_64_NONE {
					call = int64(r.Offset) - int64(s.Value)
				}
				entries = append(entries, &elfobj.Rela{Offset: uint64(len(entries) * 8), Type: elf.R_X86_64_64, Sym: out, Addend: call})
				break
			}
		}
	}
	// Always present (possibly empty), as kpatch's output has it.
	sec := &elfobj.Section{Name: "__mcount_loc", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 8, Entsize: 8,
		Data: make([]byte, 8*len(entries)), Size: uint64(8 * len(entries))}
	o.f.Sections = append(o.f.Sections, sec)
	if len(entries) > 0 {
		sec.Rela = &elfobj.Section{Name: ".rela__mcount_loc", Type: elf.SHT_RELA, Flags: elf.SHF_INFO_LINK, Addralign: 8, Entsize: 24, Target: sec, Relas: entries}
		o.f.Sections = append(o.f.Sections, sec.Rela)
	}
}

// takesAddressOfChanged reports a relocation that takes the address of a
// changed function (a function pointer, not a call). It must yield the
// original's address, as everywhere else in the kernel, so that pointer
// comparisons and registrations keep working; calls go to the new copy.
func (o *output) takesAddressOfChanged(sec *elfobj.Section, r *elfobj.Rela) bool {
	p := o.d.patched
	st := p.sym[r.Sym]
	if !isFunc(r.Sym) || st.status != statusChanged || st.twin == nil || st.parent != nil || isSpecial(sec.Name) {
		return false
	}
	// Only the function's entry address is a function pointer; labels
	// inside it (_THIS_IP_, jumps back from .cold code) are not.
	if p.targetOffset(sec, r) != 0 {
		return false
	}
	switch r.Type {
	case elf.R_X86_64_64, elf.R_X86_64_32, elf.R_X86_64_32S:
		return true
	case elf.R_X86_64_PC32, elf.R_X86_64_PLT32:
		if !isText(sec) {
			return true
		}
		in, ok := p.insnAt(sec, r.Offset)
		return ok && in.inst.Op != x86asm.CALL && !strings.HasPrefix(in.inst.Op.String(), "J")
	}
	return false
}

// originalOf returns the undefined symbol naming the kernel's copy of a
// changed function.
func (o *output) originalOf(s *elfobj.Symbol) *elfobj.Symbol {
	if u := o.originals[s]; u != nil {
		return u
	}
	tw := o.d.patched.sym[s].twin
	u := &elfobj.Symbol{Name: tw.Name, Bind: elf.STB_GLOBAL, Type: elf.STT_FUNC, Shndx: elf.SHN_UNDEF}
	if tw.Bind == elf.STB_WEAK {
		u.Bind = elf.STB_WEAK
	}
	o.originals[s] = u
	o.f.Symbols = append(o.f.Symbols, u)
	return u
}
