// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// special describes an x86_64 special section: arrays of fixed-size
// entries, each pointing at an instruction in some function.
type special struct {
	name string
	size func(Sizes) int
	// candidates are entry sizes seen in kernels, tried when the size is
	// not configured.
	candidates []int
	// relocs is the exact number of relocations every entry has, if fixed.
	relocs int
	// check refuses or drops entries (keep=false) by their relocations.
	check func(d *differ, name string, entry []*elfobj.Rela) (keep bool, err *UnsupportedError)
	// atSectionStart: entries point at the start of a function's text
	// section (the padding before the function symbol), not at the symbol.
	atSectionStart bool
}

func fixed(n int) func(Sizes) int { return func(Sizes) int { return n } }

var specials = []special{
	{name: "__bug_table", size: func(s Sizes) int { return s.Bug }, candidates: []int{12, 16, 10, 24}},
	{name: "__ex_table", size: func(s Sizes) int { return s.Exception }, candidates: []int{12, 8, 16}},
	{name: "__jump_table", size: func(s Sizes) int { return s.Jump }, check: (*differ).checkJumpEntry, candidates: []int{16, 24}, relocs: 3},
	{name: ".printk_index", size: func(s Sizes) int { return s.PrintkIndex }, candidates: []int{48, 44, 40}},
	{name: ".smp_locks", size: fixed(4)},
	{name: ".call_sites", size: fixed(4)},
	{name: ".retpoline_sites", size: fixed(4)},
	{name: ".return_sites", size: fixed(4)},
	{name: ".ibt_endbr_seal", size: fixed(4)},
	{name: ".parainstructions", size: func(s Sizes) int { return s.Paravirt }, candidates: []int{16, 12}},
	{name: ".altinstructions", size: func(s Sizes) int { return s.Alternative }, candidates: []int{12, 13, 14}},
	{name: ".static_call_sites", size: func(s Sizes) int { return s.StaticCall }, check: (*differ).checkStaticCallEntry, candidates: []int{8}, relocs: 2},
	{name: ".orc_unwind_ip", size: fixed(4)},
	// -fpatchable-function-entry (CONFIG_CALL_PADDING): the address of each
	// function's NOP padding, one R_X86_64_64 per function.
	{name: "__patchable_function_entries", size: fixed(8), relocs: 1, atSectionStart: true},
}

// isSpecial reports sections rebuilt entry by entry; their relocations
// are not followed when the section is included whole.
func isSpecial(name string) bool {
	if name == ".orc_unwind" {
		return true
	}
	for _, s := range specials {
		if s.name == name {
			return true
		}
	}
	return false
}

// includeSpecialSections rebuilds every special section of the patched
// object with only the entries that belong to included functions.
func (d *differ) includeSpecialSections() error {
	var errs UnsupportedErrors
	d.rebuilt = map[*elfobj.Section]*elfobj.Section{}
	for _, sp := range specials {
		for _, sec := range d.patched.f.Sections {
			if sec.Name != sp.name || sec.Rela == nil {
				continue
			}
			if err := d.rebuildSpecial(sp, sec, &errs); err != nil {
				return err
			}
		}
	}
	d.rebuildFixup()
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// rebuildSpecial rebuilds one special section (there may be several of
// one name, e.g. __patchable_function_entries from some assemblers).
func (d *differ) rebuildSpecial(sp special, sec *elfobj.Section, errs *UnsupportedErrors) error {
	size, err := d.entrySize(sp, sec)
	if err != nil {
		return err
	}
	entries := make([][]*elfobj.Rela, (len(sec.Data)+size-1)/size)
	for _, r := range sec.Rela.Relas {
		i := int(r.Offset / uint64(size))
		if i >= len(entries) {
			return fmt.Errorf("%s: %s: relocation at %#x beyond the section", d.name, sp.name, r.Offset)
		}
		entries[i] = append(entries[i], r)
	}
	var keep []int
	for i, e := range entries {
		if !d.entryForIncludedFunction(e) && !(sp.atSectionStart && d.entryForIncludedText(e)) {
			continue
		}
		if sp.check != nil {
			ok, err := sp.check(d, sp.name, e)
			if err != nil {
				*errs = append(*errs, err)
				continue
			}
			if !ok {
				continue
			}
		}
		keep = append(keep, i)
	}
	if len(keep) == 0 {
		return nil
	}
	out := d.rebuildEntries(sec, size, keep, entries)
	if sp.atSectionStart && sec.Flags&elf.SHF_LINK_ORDER != 0 {
		// Link to a section the patch object keeps: the first entry's.
		out.Link = entries[keep[0]][0].Sym.Section
	}
	d.rebuilt[sec] = out
	if sp.name == ".orc_unwind_ip" {
		if orc := d.patched.f.Section(".orc_unwind"); orc != nil {
			orcSize := d.opts.Sizes.Orc
			if orcSize == 0 && len(entries) > 0 {
				orcSize = len(orc.Data) / len(entries)
			}
			if len(orc.Data) != len(entries)*orcSize {
				return fmt.Errorf("%s: .orc_unwind has %d bytes for %d .orc_unwind_ip entries of %d bytes: wrong ORC entry size",
					d.name, len(orc.Data), len(entries), orcSize)
			}
			d.rebuilt[orc] = d.rebuildEntries(orc, orcSize, keep, nil)
		}
	}
	return nil
}

// entryForIncludedText reports an entry whose first relocation points
// into an included text section that defines functions (the padding
// before a function has no symbol of its own without objtool's __pfx_).
func (d *differ) entryForIncludedText(entry []*elfobj.Rela) bool {
	if len(entry) == 0 || entry[0].Sym.Section == nil || !isText(entry[0].Sym.Section) {
		return false
	}
	st := d.patched.sec[entry[0].Sym.Section]
	return st.include && len(st.defined) > 0
}

// entryForIncludedFunction reports whether one of the entry's relocations
// points into a function the patch object defines.
func (d *differ) entryForIncludedFunction(entry []*elfobj.Rela) bool {
	for _, r := range entry {
		s := r.Sym
		if s.Section == nil || !d.patched.sec[s.Section].include {
			continue
		}
		if isFunc(s) || (s.Type == elf.STT_SECTION && isText(s.Section) && d.patched.sec[s.Section].bundled != nil) {
			return true
		}
	}
	return false
}

// rebuildEntries copies the kept entries of a special section into a new
// section, with their relocations moved along, and includes their targets.
func (d *differ) rebuildEntries(sec *elfobj.Section, size int, keep []int, entries [][]*elfobj.Rela) *elfobj.Section {
	out := &elfobj.Section{Name: sec.Name, Type: sec.Type, Flags: sec.Flags, Addralign: sec.Addralign, Entsize: sec.Entsize, Link: sec.Link, Info: sec.Info}
	var rs *elfobj.Section
	if entries != nil {
		rs = &elfobj.Section{Name: sec.Rela.Name, Type: elf.SHT_RELA, Flags: sec.Rela.Flags, Addralign: 8, Entsize: 24, Target: out}
		out.Rela = rs
	}
	for n, i := range keep {
		// The last entry may lack its tail padding in the input.
		entry := make([]byte, size)
		copy(entry, sec.Data[i*size:min((i+1)*size, len(sec.Data))])
		out.Data = append(out.Data, entry...)
		if entries == nil {
			continue
		}
		for _, r := range entries[i] {
			nr := *r
			nr.Offset = r.Offset - uint64(i*size) + uint64(n*size)
			rs.Relas = append(rs.Relas, &nr)
			if !isFixup(r.Sym.Section) { // .fixup is rebuilt region by region
				d.includeSymbol(r.Sym)
			}
		}
	}
	out.Size = uint64(len(out.Data))
	return out
}

func isTracepointKey(name string) bool {
	return strings.HasPrefix(name, "__tracepoint_") || strings.HasPrefix(name, "__SCK__tp_func_")
}

func isDyndbgKey(s *elfobj.Symbol) bool {
	return strings.HasPrefix(s.Name, "__UNIQUE_ID_ddebug") || strings.HasPrefix(s.Name, "descriptor") ||
		(s.Section != nil && s.Section.Name == "__dyndbg")
}

// moduleKey reports a key that only a klp relocation could resolve when
// the patch targets a module: the module loader sets up jump labels and
// static calls before the livepatch core has resolved such relocations.
func (d *differ) moduleKey(key *elfobj.Symbol) bool {
	if d.opts.Parent == "vmlinux" || d.opts.Exported[key.Name] {
		return false
	}
	return key.Section == nil || d.patched.sym[key].status != statusNew
}

// checkJumpEntry handles a __jump_table entry (code, target, key).
func (d *differ) checkJumpEntry(name string, entry []*elfobj.Rela) (bool, *UnsupportedError) {
	if len(entry) != 3 {
		return false, &UnsupportedError{Object: d.name, Section: name, Rule: fmt.Sprintf("jump table entry with %d relocations, want 3", len(entry)),
			Hint: "check JUMP_STRUCT_SIZE for this kernel"}
	}
	key := entry[2].Sym
	if !d.moduleKey(key) {
		return true, nil
	}
	if isTracepointKey(key.Name) || isDyndbgKey(key) {
		return false, nil // the site stays disabled in the patched copy
	}
	return false, &UnsupportedError{Object: d.name, Symbol: key.Name, Section: name,
		Rule: "jump label whose static key lives in the module being patched",
		Hint: "use static_key_enabled() instead of static_branch_*() in patched code"}
}

// checkStaticCallEntry handles a .static_call_sites entry (site, key).
func (d *differ) checkStaticCallEntry(name string, entry []*elfobj.Rela) (bool, *UnsupportedError) {
	if len(entry) != 2 {
		return false, &UnsupportedError{Object: d.name, Section: name, Rule: fmt.Sprintf("static call entry with %d relocations, want 2", len(entry)),
			Hint: "check STATIC_CALL_STRUCT_SIZE for this kernel"}
	}
	key := entry[1].Sym
	if !d.moduleKey(key) {
		return true, nil
	}
	if isTracepointKey(key.Name) {
		return false, nil
	}
	return false, &UnsupportedError{Object: d.name, Symbol: key.Name, Section: name,
		Rule: "static call whose key lives in the module being patched",
		Hint: "use KPATCH_STATIC_CALL() instead of static_call() in patched code"}
}

// entrySize returns the entry size of a special section: the configured
// one, checked against the section's relocation layout, or the first
// known size the layout fits. The last entry may lack tail padding.
func (d *differ) entrySize(sp special, sec *elfobj.Section) (int, error) {
	if size := sp.size(d.opts.Sizes); size > 0 {
		if !layoutFits(sec, size, sp.relocs) {
			return 0, fmt.Errorf("%s: special section %s (%d bytes, %d relocations) does not fit entries of %d bytes: the entry sizes (Options.Sizes) do not match the kernel that built the object",
				d.name, sp.name, len(sec.Data), len(relas(sec)), size)
		}
		return size, nil
	}
	cands := sp.candidates
	if len(cands) == 0 {
		cands = []int{sp.size(DefaultSizes)}
	}
	for _, size := range cands {
		if layoutFits(sec, size, sp.relocs) {
			return size, nil
		}
	}
	return 0, fmt.Errorf("%s: cannot tell the entry size of special section %s (%d bytes); set it in Options.Sizes", d.name, sp.name, len(sec.Data))
}

// layoutFits reports whether entries of the given size match the
// section's relocations: each entry has a relocation at its start (every
// x86 special entry begins with the address of its instruction) and,
// when the structure fixes it, exactly that many relocations.
func layoutFits(sec *elfobj.Section, size, relocs int) bool {
	n, rs := len(sec.Data), relas(sec)
	if size <= 0 || len(rs) == 0 {
		return false
	}
	count := (n + size - 1) / size
	perEntry := make([]int, count)
	starts := make([]bool, count)
	for _, r := range rs {
		i := int(r.Offset) / size
		if i >= count {
			return false
		}
		perEntry[i]++
		if int(r.Offset)%size == 0 {
			starts[i] = true
		}
	}
	for i := range perEntry {
		if !starts[i] || (relocs > 0 && perEntry[i] != relocs) {
			return false
		}
	}
	return true
}
