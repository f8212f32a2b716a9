// SPDX-License-Identifier: Apache-2.0

package build

import (
	"cmp"
	"debug/elf"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// funcIndex finds the function whose code covers an offset of a section
// in O(log n): a line table has a row per few instructions, so scanning
// the symbol table per row cost rows × symbols.
type funcIndex map[*elfobj.Section]*sectionFuncs

// sectionFuncs are the functions of one section sorted by address.
type sectionFuncs struct {
	syms    []*elfobj.Symbol
	order   []int  // each one's position in the symbol table, parallel to syms
	maxSize uint64 // the largest size: no function starting lower can reach past start+maxSize
}

// newFuncIndex indexes f's functions but __pfx_ padding symbols.
func newFuncIndex(f *elfobj.File) funcIndex {
	x := funcIndex{}
	type entry struct {
		sym   *elfobj.Symbol
		order int
	}
	bySec := map[*elfobj.Section][]entry{}
	for i, s := range f.Symbols {
		if s.Section != nil && s.Type == elf.STT_FUNC && !strings.HasPrefix(s.Name, "__pfx_") {
			bySec[s.Section] = append(bySec[s.Section], entry{s, i})
		}
	}
	for sec, es := range bySec {
		slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(a.sym.Value, b.sym.Value) })
		sf := &sectionFuncs{}
		for _, e := range es {
			sf.syms = append(sf.syms, e.sym)
			sf.order = append(sf.order, e.order)
			sf.maxSize = max(sf.maxSize, e.sym.Size)
		}
		x[sec] = sf
	}
	return x
}

// at returns the function of sec covering off, nil for none; of
// overlapping ones (aliases), the first in the symbol table.
func (x funcIndex) at(sec *elfobj.Section, off uint64) *elfobj.Symbol {
	sf := x[sec]
	if sf == nil {
		return nil
	}
	// Candidates start at or below off; walk down from the highest until
	// none can reach off.
	n, _ := slices.BinarySearchFunc(sf.syms, off, func(s *elfobj.Symbol, t uint64) int {
		if s.Value <= t {
			return -1
		}
		return 1
	})
	var best *elfobj.Symbol
	bestOrder := 0
	for i := n - 1; i >= 0; i-- {
		s := sf.syms[i]
		if off-s.Value >= sf.maxSize {
			break
		}
		if off < s.Value+s.Size && (best == nil || sf.order[i] < bestOrder) {
			best, bestOrder = s, sf.order[i]
		}
	}
	return best
}
