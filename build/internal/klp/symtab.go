// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ErrAmbiguousSymbol is wrapped by Position errors when a name occurs more
// than once in the target and nothing tells the occurrences apart.
var ErrAmbiguousSymbol = errors.New("ambiguous symbol")

// ErrSymbolNotFound is wrapped by Position errors for names the target lacks.
var ErrSymbolNotFound = errors.New("symbol not found in the target's symbol table")

// SymbolTable is the symbol table of a patch target (vmlinux or a module):
// what the livepatch core searches when it resolves a klp_func old_name or
// a .klp.sym symbol, with enough structure to compute sympos.
type SymbolTable struct {
	// Source names the file the table came from, for errors.
	Source string
	syms   []tableSym
	// byName maps a name to its last index in syms; tableSym.prev chains
	// the earlier ones. One map entry and no slice per name: vmlinux has
	// some 150,000 symbols and a build asks about a few dozen.
	byName map[string]int32
	// hasFiles reports STT_FILE blocks (an ELF symtab; not System.map).
	hasFiles bool
	// fileStart[i] is the index in syms of file block i's first symbol;
	// the block runs to the next one's start.
	fileStart []int
	// byAddress orders positions by address (vmlinux, kallsyms order) when
	// true, by table order (modules) when false.
	byAddress bool
}

type tableSym struct {
	name  string
	addr  uint64
	local bool
	file  int // STT_FILE block index, -1 for none (globals, System.map)
	// fileLocal marks a local FUNC or OBJECT of a file block: what tells
	// blocks apart (Position's objLocals).
	fileLocal bool
	prev      int32 // index of the previous symbol of the same name, -1 for none
	// transient marks a module symbol the kernel drops from the module's
	// kallsyms once its init is done: in an .init* section or one not
	// loaded (not SHF_ALLOC).
	transient bool
}

// ReadVmlinux reads the symbol table of a vmlinux (or any linked ELF with a
// .symtab). Positions are ranked by address, as kallsyms does for vmlinux.
func ReadVmlinux(r io.ReaderAt, source string) (*SymbolTable, error) {
	return readELFTable(r, source, true)
}

// ReadModule reads the symbol table of a kernel module (.ko). Positions
// are counted in symbol table order, as the livepatch core does for modules.
func ReadModule(r io.ReaderAt, source string) (*SymbolTable, error) {
	return readELFTable(r, source, false)
}

func readELFTable(r io.ReaderAt, source string, byAddress bool) (*SymbolTable, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("symbol table %s: %w", source, err)
	}
	defer f.Close()
	syms, err := elfSymbols(f)
	if err != nil {
		return nil, fmt.Errorf("symbol table %s: %w", source, err)
	}
	t := &SymbolTable{Source: source, byName: make(map[string]int32, len(syms)), hasFiles: true, byAddress: byAddress,
		syms: make([]tableSym, 0, len(syms))}
	file := -1
	for _, s := range syms {
		typ, bind := elf.ST_TYPE(s.info), elf.ST_BIND(s.info)
		if typ == elf.STT_FILE {
			file = len(t.fileStart)
			t.fileStart = append(t.fileStart, len(t.syms))
			continue
		}
		if s.shndx == elf.SHN_UNDEF || typ == elf.STT_SECTION || s.name == "" {
			continue
		}
		ts := tableSym{name: s.name, addr: s.value, local: bind == elf.STB_LOCAL, file: -1, transient: transientSection(f, s.shndx)}
		if ts.local && file >= 0 {
			ts.file = file
			ts.fileLocal = typ == elf.STT_FUNC || typ == elf.STT_OBJECT
		}
		t.add(ts)
	}
	return t, nil
}

// ReadSystemMap reads a System.map ("address type name" lines). It has no
// file boundaries, so a duplicated local name cannot be told apart.
func ReadSystemMap(r io.Reader, source string) (*SymbolTable, error) {
	t := &SymbolTable{Source: source, byName: map[string]int32{}, byAddress: true}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 || len(fields[1]) != 1 {
			return nil, fmt.Errorf("system map %s line %d: want \"address type name\", got %q", source, line, sc.Text())
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("system map %s line %d: bad address %q", source, line, fields[0])
		}
		typ := fields[1][0]
		if typ == 'U' || typ == 'u' || typ == 'w' || typ == 'a' || typ == 'N' {
			continue
		}
		t.add(tableSym{name: fields[2], addr: addr, local: typ >= 'a' && typ <= 'z', file: -1})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("system map %s: %w", source, err)
	}
	if len(t.syms) == 0 {
		return nil, fmt.Errorf("system map %s: no symbols", source)
	}
	return t, nil
}

// transientSection reports a section whose symbols a module keeps in its
// kallsyms only while it loads: the kernel's core table holds allocated,
// non-init sections (data too, under KALLSYMS_ALL, which livepatch needs).
func transientSection(f *elf.File, idx elf.SectionIndex) bool {
	if int(idx) >= len(f.Sections) {
		return true // SHN_ABS and other special indexes
	}
	sec := f.Sections[idx]
	return sec.Flags&elf.SHF_ALLOC == 0 || strings.HasPrefix(sec.Name, ".init")
}

func (t *SymbolTable) add(s tableSym) {
	s.prev = -1
	if last, ok := t.byName[s.name]; ok {
		s.prev = last
	}
	t.byName[s.name] = int32(len(t.syms))
	t.syms = append(t.syms, s)
}

// occurrences returns the indices into syms of the symbols named name,
// in table order.
func (t *SymbolTable) occurrences(name string) []int {
	last, ok := t.byName[name]
	if !ok {
		return nil
	}
	var idx []int
	for i := last; i >= 0; i = t.syms[i].prev {
		idx = append(idx, int(i))
	}
	slices.Reverse(idx)
	return idx
}

// Has reports whether the table defines name.
func (t *SymbolTable) Has(name string) bool { _, ok := t.byName[name]; return ok }

// HasGlobal reports whether the table defines name as a global (or weak)
// symbol, which is what an undefined global reference can bind to; a
// static of another file with the same name cannot be what it means.
func (t *SymbolTable) HasGlobal(name string) bool {
	for _, i := range t.occurrences(name) {
		if !t.syms[i].local {
			return true
		}
	}
	return false
}

// Count returns how many symbols are named name.
func (t *SymbolTable) Count(name string) int { return len(t.occurrences(name)) }

// Position returns the sympos the livepatch core needs to find name: 0
// when the name is unique in the target, else the 1-based rank of the
// right occurrence (by address for vmlinux, table order for modules).
//
// A duplicated name is told apart by the translation unit it comes from:
// objLocals is the set of local function and object names of the object
// being patched, and the occurrence chosen is the one in the single
// STT_FILE block whose locals include all of them. Without file blocks
// (System.map) or with no or several matching blocks, Position refuses
// with an error wrapping ErrAmbiguousSymbol.
//
// A global (local false) is the single non-local occurrence of its name.
func (t *SymbolTable) Position(name string, local bool, objLocals []string) (int, error) {
	idx := t.occurrences(name)
	switch len(idx) {
	case 0:
		return 0, fmt.Errorf("%s: %q: %w", t.Source, name, ErrSymbolNotFound)
	case 1:
		return 0, nil
	}
	if !local {
		var globals []int
		for _, i := range idx {
			if !t.syms[i].local {
				globals = append(globals, i)
			}
		}
		if len(globals) != 1 {
			return 0, fmt.Errorf("%s: global %q occurs %d times: %w", t.Source, name, len(globals), ErrAmbiguousSymbol)
		}
		return t.stableRank(name, globals[0])
	}
	if !t.hasFiles {
		return 0, fmt.Errorf("%s: %q occurs %d times and a System.map cannot tell which one the patched object means; give the vmlinux with symbols instead: %w",
			t.Source, name, len(idx), ErrAmbiguousSymbol)
	}
	var match []int
	for _, i := range idx {
		s := t.syms[i]
		if s.file < 0 || !s.local {
			continue
		}
		if containsAll(t.fileLocals(s.file), objLocals) {
			match = append(match, i)
		}
	}
	if len(match) != 1 {
		return 0, fmt.Errorf("%s: %q occurs %d times and %d of its source files match the patched object's local symbols (source or toolchain mismatch?): %w",
			t.Source, name, len(idx), len(match), ErrAmbiguousSymbol)
	}
	return t.stableRank(name, match[0])
}

// stableRank is rank, checked for modules against the other table the
// kernel may search. A module's kallsyms hold every symbol while it loads
// (a patch applied to a module as it comes) and only its core symbols
// afterwards (a patch loaded after the module): when an init-only copy of
// the name comes first, the two counts differ and no sympos fits both.
func (t *SymbolTable) stableRank(name string, want int) (int, error) {
	pos := t.rank(name, want)
	if t.byAddress {
		return pos, nil
	}
	if t.syms[want].transient {
		return 0, fmt.Errorf("%s: %q is in an init or unloaded section, gone from the module once it is live: %w", t.Source, name, ErrAmbiguousSymbol)
	}
	core := 0
	for _, i := range t.occurrences(name) {
		if !t.syms[i].transient {
			core++
		}
		if i == want {
			break
		}
	}
	if core != pos {
		return 0, fmt.Errorf("%s: %q is occurrence %d while the module loads but %d once it is live (an init-section copy comes first), so no sympos finds it both ways: %w",
			t.Source, name, pos, core, ErrAmbiguousSymbol)
	}
	return pos, nil
}

// rank returns the 1-based position of syms[want] among the symbols named name.
func (t *SymbolTable) rank(name string, want int) int {
	idx := t.occurrences(name)
	if t.byAddress {
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case t.syms[a].addr < t.syms[b].addr:
				return -1
			case t.syms[a].addr > t.syms[b].addr:
				return 1
			}
			return 0
		})
	}
	return slices.Index(idx, want) + 1
}

// fileLocals returns the set of local FUNC and OBJECT names of file
// block i.
func (t *SymbolTable) fileLocals(i int) map[string]bool {
	end := len(t.syms)
	if i+1 < len(t.fileStart) {
		end = t.fileStart[i+1]
	}
	set := map[string]bool{}
	for _, s := range t.syms[t.fileStart[i]:end] {
		if s.fileLocal {
			set[s.name] = true
		}
	}
	return set
}

func containsAll(set map[string]bool, names []string) bool {
	for _, n := range names {
		if !set[n] {
			return false
		}
	}
	return true
}
