// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"sort"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// Kernels before 5.17 keep exception fixup code in .fixup: each
// __ex_table entry points at the fixup code for its instruction, which
// runs until the next entry's fixup starts. The patch object keeps only
// the fixup regions of the __ex_table entries it keeps, and those
// entries are pointed at the regions' new offsets.

func isFixup(s *elfobj.Section) bool { return s != nil && s.Name == ".fixup" }

func (d *differ) rebuildFixup() {
	p := d.patched
	fixup, ex := p.f.Section(".fixup"), p.f.Section("__ex_table")
	if fixup == nil || ex == nil || d.rebuilt[ex] == nil {
		return
	}
	// Region boundaries: every fixup offset any entry points at.
	var starts []int64
	seen := map[int64]bool{}
	for _, r := range relas(ex) {
		if isFixup(r.Sym.Section) && r.Sym.Type == elf.STT_SECTION && !seen[r.Addend] {
			seen[r.Addend] = true
			starts = append(starts, r.Addend)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	end := func(start int64) int64 {
		i := sort.Search(len(starts), func(i int) bool { return starts[i] > start })
		if i < len(starts) {
			return starts[i]
		}
		return int64(len(fixup.Data))
	}
	out := &elfobj.Section{Name: fixup.Name, Type: fixup.Type, Flags: fixup.Flags, Addralign: fixup.Addralign, Entsize: fixup.Entsize}
	rs := &elfobj.Section{Name: ".rela.fixup", Type: elf.SHT_RELA, Flags: elf.SHF_INFO_LINK, Addralign: 8, Entsize: 24, Target: out}
	moved := map[int64]int64{}
	for _, r := range d.rebuilt[ex].Rela.Relas {
		if !isFixup(r.Sym.Section) || r.Sym.Type != elf.STT_SECTION {
			continue
		}
		start := r.Addend
		if _, done := moved[start]; !done && start >= 0 && start <= int64(len(fixup.Data)) {
			stop := end(start)
			moved[start] = int64(len(out.Data))
			out.Data = append(out.Data, fixup.Data[start:stop]...)
			for _, fr := range relas(fixup) {
				if int64(fr.Offset) >= start && int64(fr.Offset) < stop {
					nr := *fr
					nr.Offset = uint64(int64(fr.Offset) - start + moved[start])
					rs.Relas = append(rs.Relas, &nr)
					d.includeSymbol(fr.Sym)
				}
			}
		}
		r.Addend = moved[start]
	}
	if len(out.Data) == 0 {
		return
	}
	out.Size = uint64(len(out.Data))
	if len(rs.Relas) > 0 {
		out.Rela = rs
	}
	d.rebuilt[fixup] = out
}
