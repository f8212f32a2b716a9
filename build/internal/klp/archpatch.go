// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// At module load the kernel patches a module's own code: apply_alternatives
// copies replacement code from .altinstr_replacement over each alternative
// site, and apply_paravirt rewrites each paravirt site. A klp relocation
// the livepatch core writes only later then goes wrong: copied replacement
// code keeps a call or address never resolved (a jump to nowhere once the
// CPU feature selects it), and a relocation inside a site that was patched
// over lands on the new instructions.
//
// Which klp relocations come too late depends on the kernel. Before 5.8
// the livepatch core writes all of them after the module loaded (kpatch
// then moved these sections to .klp.arch sections the core applied last;
// the kernel dropped those in 5.8). From 5.8 the vmlinux ones are written
// during the load, before the module's code is patched, and only those for
// other modules (written when that module loads) still come too late.

// ErrArchKlpRelocation is matched by each *ArchRelocationError.
var ErrArchKlpRelocation = errors.New("klp relocation in code the kernel patches at module load")

// ArchRelocationError is a klp relocation that would be written after the
// kernel patched the code it belongs to.
type ArchRelocationError struct {
	Function string `json:"function"` // the function holding the alternative or paravirt site
	Section  string `json:"section"`  // ".altinstructions" or ".parainstructions"
	// Replacement is true for a relocation in the alternative's
	// replacement code, false for one in the site's own instructions.
	Replacement bool   `json:"replacement"`
	Symbol      string `json:"symbol"` // the .klp.sym symbol the relocation refers to
}

func (e *ArchRelocationError) Error() string {
	where := "the " + siteKind(e.Section) + " site"
	if e.Replacement {
		where = "the replacement code of an alternative"
	}
	return fmt.Sprintf("function %s: %s refers to %s, which the livepatch core resolves only after the kernel patched that code at module load (%v): refer only to exported symbols there, or build for a kernel from 5.8 on if the symbol is in vmlinux",
		e.Function, where, e.Symbol, ErrArchKlpRelocation)
}

func (e *ArchRelocationError) Unwrap() error { return ErrArchKlpRelocation }

func siteKind(section string) string {
	if section == ".parainstructions" {
		return "paravirt"
	}
	return "alternative"
}

// CheckArchPatching finds the klp relocations of f (a patch object, its
// references renamed to .klp.sym symbols, or a linked module) that the
// target kernel would write after patching the code they are in, and
// returns one *ArchRelocationError each, joined. vmlinuxEarly says the
// kernel writes vmlinux klp relocations before it patches the module's
// code (Linux 5.8 and later). Entries it cannot read are an error.
func CheckArchPatching(f *elfobj.File, vmlinuxEarly bool) error {
	late := func(s *elfobj.Symbol) (string, bool) {
		// The object whose .klp.rela sections hold the relocation decides
		// when it is written.
		obj, _, _, _, final, ok := parseKlpReference(s.Name)
		if !ok || s.Section != nil || (obj == "vmlinux" && vmlinuxEarly) {
			return "", false
		}
		return final, true
	}
	var errs []error
	seen := map[ArchRelocationError]bool{}
	report := func(e ArchRelocationError) {
		if !seen[e] {
			seen[e] = true
			errs = append(errs, &e)
		}
	}
	sites, err := archSites(f)
	if err != nil {
		return err
	}
	for _, site := range sites {
		for _, r := range relasIn(site.sec, site.off, site.length) {
			if name, ok := late(r.Sym); ok {
				report(ArchRelocationError{Function: site.function(), Section: site.table, Symbol: name})
			}
		}
		if site.repl != nil {
			for _, r := range relasIn(site.repl, site.replOff, site.replLength) {
				if name, ok := late(r.Sym); ok {
					report(ArchRelocationError{Function: site.function(), Section: site.table, Replacement: true, Symbol: name})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// archSite is one alternative or paravirt entry: the patched bytes and,
// for an alternative, its replacement code.
type archSite struct {
	table       string // the section listing it
	sec         *elfobj.Section
	off, length uint64
	repl        *elfobj.Section
	replOff     uint64
	replLength  uint64
	f           *elfobj.File
}

// function names the function holding the site, or the section and offset.
func (s archSite) function() string {
	for _, sym := range s.f.Symbols {
		if sym.Section == s.sec && sym.Type == elf.STT_FUNC && s.off >= sym.Value && s.off < sym.Value+sym.Size {
			return sym.Name
		}
	}
	return fmt.Sprintf("%s+%#x", s.sec.Name, s.off)
}

// archSites reads the entries of .altinstructions and .parainstructions
// through their relocations, which hold the entries' addresses:
//
//   - alternative (x86_64, all kernels): s32 instr_offset and s32
//     repl_offset, both "label - .", then, before 6.3, u16 cpuid, u8
//     instrlen, u8 replacementlen; from 6.3 a u32 feature word comes first,
//     so the lengths are at 12 and 13.
//   - paravirt (until 6.8): the site's address (R_X86_64_64), u8 type,
//     u8 len.
func archSites(f *elfobj.File) ([]archSite, error) {
	var out []archSite
	for _, sec := range f.Sections {
		if sec == nil || sec.Rela == nil {
			continue
		}
		switch sec.Name {
		case ".altinstructions":
			sites, err := altSites(f, sec)
			if err != nil {
				return nil, err
			}
			out = append(out, sites...)
		case ".parainstructions":
			for _, r := range sec.Rela.Relas {
				if r.Type != elf.R_X86_64_64 {
					continue
				}
				target, off, ok := resolve(r)
				if !ok {
					continue // a site outside this object: nothing here to check
				}
				if r.Offset+10 > uint64(len(sec.Data)) {
					return nil, fmt.Errorf(".parainstructions entry at %#x is cut short", r.Offset)
				}
				out = append(out, archSite{table: sec.Name, sec: target, off: off, length: uint64(sec.Data[r.Offset+9]), f: f})
			}
		}
	}
	return out, nil
}

// altSites pairs each instr_offset relocation with the repl_offset one
// four bytes after it (the replacement is in .altinstr_replacement).
func altSites(f *elfobj.File, sec *elfobj.Section) ([]archSite, error) {
	byOffset := map[uint64]*elfobj.Rela{}
	for _, r := range sec.Rela.Relas {
		byOffset[r.Offset] = r
	}
	var out []archSite
	for _, r := range sec.Rela.Relas {
		repl := byOffset[r.Offset+4]
		if repl == nil || repl.Sym == nil || repl.Sym.Section == nil || repl.Sym.Section.Name != ".altinstr_replacement" {
			continue
		}
		target, off, ok := resolve(r)
		if !ok {
			continue
		}
		replSec, replOff, _ := resolve(repl)
		// The lengths sit at 10/11 (cpuid before 6.3) or 12/13 (a u32
		// feature word from 6.3); the entry size tells which: 12 or 13
		// bytes before 6.3, 14 from it.
		lens := r.Offset + 10
		if altEntrySize(sec) == 14 {
			lens = r.Offset + 12
		}
		if lens+2 > uint64(len(sec.Data)) {
			return nil, fmt.Errorf(".altinstructions entry at %#x is cut short", r.Offset)
		}
		out = append(out, archSite{table: sec.Name, sec: target, off: off, length: uint64(sec.Data[lens]),
			repl: replSec, replOff: replOff, replLength: uint64(sec.Data[lens+1]), f: f})
	}
	return out, nil
}

// altEntrySize is the distance between entries (each starts with an
// instr_offset relocation), or the whole section for a single entry.
func altEntrySize(sec *elfobj.Section) uint64 {
	var starts []uint64
	for _, r := range sec.Rela.Relas {
		if r.Sym != nil && (r.Sym.Section == nil || r.Sym.Section.Name != ".altinstr_replacement") {
			starts = append(starts, r.Offset)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	if len(starts) >= 2 {
		return starts[1] - starts[0]
	}
	return uint64(len(sec.Data))
}

// resolve returns the section and offset a data relocation points at
// (symbol value plus addend; for "label - ." fields the place cancels
// out), false for a symbol not defined in this object.
func resolve(r *elfobj.Rela) (*elfobj.Section, uint64, bool) {
	if r.Sym == nil || r.Sym.Section == nil {
		return nil, 0, false
	}
	off := int64(r.Sym.Value) + r.Addend
	if off < 0 {
		return nil, 0, false
	}
	return r.Sym.Section, uint64(off), true
}

// relasIn returns the relocations of sec (normal and klp) whose field
// starts in [off, off+length).
func relasIn(sec *elfobj.Section, off, length uint64) []*elfobj.Rela {
	var out []*elfobj.Rela
	for _, rs := range sec.RelaSections() {
		for _, r := range rs.Relas {
			if r.Offset >= off && r.Offset < off+length {
				out = append(out, r)
			}
		}
	}
	return out
}
