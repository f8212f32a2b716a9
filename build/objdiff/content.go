// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// Compiler-generated names carry counters: __COUNTER__ in __UNIQUE_ID_
// names, the assembler's numbering of .LC and other .L labels, GCC's
// numbering of UBSAN descriptors. A line added above them renumbers them,
// so the same data can carry another name in the other build. References
// to such symbols are compared by what they point at instead.

// maxContentDepth bounds how far references between compared data are
// followed; deeper chains count as changed (the safe side: the function
// is patched).
const maxContentDepth = 4

// nameState is what the differ remembers while comparing by content.
type nameState struct {
	// inProgress holds the pairs being compared, so that a reference
	// cycle compares equal unless something else on it differs.
	inProgress map[[2]*elfobj.Symbol]bool
	// done caches results of comparisons that started at the top level.
	done map[[2]*elfobj.Symbol]contentResult
	// lineHits counts differences accepted because only a line number
	// differs; lineMoved says a section compared equal thanks to them, and
	// lineOnly lists the functions where that happened.
	lineHits  int
	lineMoved bool
	lineOnly  []string
}

func (d *differ) nameState() *nameState {
	if d.names == nil {
		d.names = &nameState{inProgress: map[[2]*elfobj.Symbol]bool{}, done: map[[2]*elfobj.Symbol]contentResult{}}
	}
	return d.names
}

// isUbsanData reports the symbol-less sections that hold UBSAN
// descriptors: source locations, type descriptors and a "reported" flag
// (GCC: .data..Lubsan_data12, .data.rel.local..Lubsan_type3; Clang:
// .data..L__unnamed_4). They are never correlated: the patch gets fresh
// copies, as with kpatch.
func isUbsanData(s *elfobj.Section) bool {
	return s != nil && (strings.Contains(s.Name, "..Lubsan_") || strings.Contains(s.Name, "..L__unnamed_"))
}

// byContent reports relocation targets whose name says nothing stable about
// them: they are compared by content.
func byContent(s *elfobj.Symbol) bool {
	if s.Section == nil {
		return false
	}
	if s.Type == elf.STT_SECTION {
		return isUbsanData(s.Section)
	}
	return strings.HasPrefix(s.Name, ".L") || strings.HasPrefix(s.Name, "__UNIQUE_ID_") || neverCorrelated(s.Name)
}

// nameKind is what must agree between two content-compared symbols: the
// name without its counters (".LC26" -> ".LC", "__UNIQUE_ID_ddebug539.36"
// -> "__UNIQUE_ID_ddebug", "__key.3" -> "__key"); for section symbols, the
// section name without them.
func nameKind(s *elfobj.Symbol) string {
	n := s.Name
	if s.Type == elf.STT_SECTION && s.Section != nil {
		n = s.Section.Name
	}
	return strings.TrimRight(baseName(n), "0123456789")
}

// sameRef compares relocation x of a (original) with y of b (patched),
// whose types and offsets already agree.
func (d *differ) sameRef(a *elfobj.Section, x *elfobj.Rela, b *elfobj.Section, y *elfobj.Rela, depth int) bool {
	xs, ys := x.Sym, y.Sym
	if isStringSection(xs.Section) && isStringSection(ys.Section) &&
		((xs.Type == elf.STT_SECTION && ys.Type == elf.STT_SECTION) || (isLabel(xs) && isLabel(ys))) {
		return d.sameString(d.orig.stringAt(a, x), d.patched.stringAt(b, y))
	}
	if isConstantPool(xs.Section) && isConstantPool(ys.Section) &&
		(xs.Type == elf.STT_SECTION || isLabel(xs)) && (ys.Type == elf.STT_SECTION || isLabel(ys)) {
		xc, xok := d.orig.constantAt(a, x)
		yc, yok := d.patched.constantAt(b, y)
		return xok && yok && bytes.Equal(xc, yc)
	}
	return x.Addend == y.Addend && d.sameTargetAt(xs, ys, depth)
}

// isConstantPool reports mergeable constant sections (.rodata.cst16):
// entries are found by offset or by a numbered label, both of which move
// when another constant is added; they compare by value.
func isConstantPool(s *elfobj.Section) bool {
	return s != nil && s.Flags&elf.SHF_MERGE != 0 && s.Flags&elf.SHF_STRINGS == 0 && s.Entsize > 0 && s.Type == elf.SHT_PROGBITS
}

// constantAt returns the constant-pool entry a relocation in sec points at.
func (o *object) constantAt(sec *elfobj.Section, r *elfobj.Rela) ([]byte, bool) {
	pool := r.Sym.Section
	off := int64(r.Sym.Value) + o.targetOffset(sec, r)
	if off < 0 || off+int64(pool.Entsize) > int64(len(pool.Data)) {
		return nil, false
	}
	return pool.Data[off : off+int64(pool.Entsize)], true
}

// isLabel reports an assembler local label kept in the symbol table (.LC26
// in a mergeable section).
func isLabel(s *elfobj.Symbol) bool {
	return strings.HasPrefix(s.Name, ".L") && s.Type == elf.STT_NOTYPE
}

// sameTargetAt reports whether two relocation targets name the same
// thing: the same twin, the same name, or for compiler-generated names
// (see byContent) the same content; depth is how deep a content
// comparison the caller is already in.
func (d *differ) sameTargetAt(x, y *elfobj.Symbol, depth int) bool {
	if tw := d.orig.sym[x].twin; tw != nil {
		return tw == y
	}
	if d.patched.sym[y].twin != nil || x.Type != y.Type {
		return false
	}
	if byContent(x) || byContent(y) {
		return byContent(x) && byContent(y) && nameKind(x) == nameKind(y) && d.sameContent(x, y, depth+1)
	}
	return namesMatch(x.Name, y.Name)
}

// sameContent compares what two symbols hold: bytes, and relocations by
// what they point at.
func (d *differ) sameContent(x, y *elfobj.Symbol, depth int) bool {
	ns := d.nameState()
	key := [2]*elfobj.Symbol{x, y}
	if v, ok := ns.done[key]; ok {
		if v.lineOnly {
			ns.lineHits++
		}
		return v.same
	}
	if ns.inProgress[key] {
		return true
	}
	if depth > maxContentDepth {
		return false
	}
	ns.inProgress[key] = true
	hits := ns.lineHits
	v := d.compareContent(x, y, depth)
	delete(ns.inProgress, key)
	if depth == 1 {
		ns.done[key] = contentResult{same: v, lineOnly: v && ns.lineHits > hits}
	}
	return v
}

// contentResult is a cached comparison: equal, and equal only because line
// numbers were ignored.
type contentResult struct{ same, lineOnly bool }

// symbolRange is the part of its section a symbol stands for.
func symbolRange(s *elfobj.Symbol) (lo, hi uint64) {
	sec := s.Section
	switch {
	case s.Type == elf.STT_SECTION:
		return 0, sec.Size
	case s.Size > 0:
		return s.Value, s.Value + s.Size
	case sec.Flags&elf.SHF_MERGE != 0 && sec.Entsize > 0:
		return s.Value, s.Value + sec.Entsize
	}
	return s.Value, sec.Size // a label: the rest of its section
}

func (d *differ) compareContent(x, y *elfobj.Symbol, depth int) bool {
	xs, ys := x.Section, y.Section
	xlo, xhi := symbolRange(x)
	ylo, yhi := symbolRange(y)
	if xhi < xlo || yhi < ylo || xhi-xlo != yhi-ylo || xs.Type != ys.Type {
		return false
	}
	if isStringSection(xs) && isStringSection(ys) && x.Size == 0 && y.Size == 0 {
		return d.sameString(cString(xs.Data, xlo), cString(ys.Data, ylo))
	}
	if xs.Type == elf.SHT_NOBITS {
		return true
	}
	if xhi > uint64(len(xs.Data)) || yhi > uint64(len(ys.Data)) {
		return false
	}
	rx, ry := relasIn(xs, xlo, xhi), relasIn(ys, ylo, yhi)
	if len(rx) != len(ry) {
		return false
	}
	for i := range rx {
		if rx[i].Offset-xlo != ry[i].Offset-ylo || rx[i].Type != ry[i].Type || !d.sameRef(xs, rx[i], ys, ry[i], depth) {
			return false
		}
	}
	xd, yd := xs.Data[xlo:xhi], ys.Data[ylo:yhi]
	if bytes.Equal(xd, yd) {
		return true
	}
	if off, mask, ok := lineField(x, rx, xlo); ok && onlyFieldDiffers(xd, yd, off, mask) {
		d.nameState().lineHits++
		return true
	}
	return false
}

// relasIn returns the relocations of sec that patch bytes in [lo, hi).
func relasIn(sec *elfobj.Section, lo, hi uint64) []*elfobj.Rela {
	var out []*elfobj.Rela
	for _, r := range relas(sec) {
		if r.Offset >= lo && r.Offset < hi {
			out = append(out, r)
		}
	}
	return out
}

func cString(data []byte, off uint64) string {
	if off >= uint64(len(data)) {
		return ""
	}
	s := data[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// lineField locates the source line number in descriptors that carry one
// next to pointers to strings: returns its offset in the symbol's bytes and
// the bits it occupies in the little-endian 32-bit word there.
//   - UBSAN source locations start every descriptor: a file name pointer,
//     then the 32-bit line, then the column.
//   - Dynamic debug descriptors (struct _ddebug): modname, function,
//     filename and format pointers, then an 18-bit lineno bit field.
func lineField(s *elfobj.Symbol, rs []*elfobj.Rela, lo uint64) (off int, mask uint32, ok bool) {
	relocated := map[uint64]bool{}
	for _, r := range rs {
		relocated[r.Offset-lo] = true
	}
	switch {
	case s.Type == elf.STT_SECTION && isUbsanData(s.Section) && relocated[0] && !relocated[8]:
		return 8, 0xffffffff, true
	case isDdebugDescriptor(s.Name):
		var o uint64
		for relocated[o] {
			o += 8
		}
		if o == 0 {
			return 0, 0, false
		}
		return int(o), 1<<18 - 1, true
	}
	return 0, 0, false
}

// isDdebugDescriptor matches GCC's __UNIQUE_ID_ddebug539.36, Clang's
// fn.__UNIQUE_ID_ddebug415 and older kernels' descriptor.12.
func isDdebugDescriptor(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if strings.HasPrefix(part, "__UNIQUE_ID_ddebug") || part == "descriptor" {
			return true
		}
	}
	return false
}

// onlyFieldDiffers reports byte slices of equal length that differ only in
// the mask bits of the 32-bit little-endian word at off.
func onlyFieldDiffers(a, b []byte, off int, mask uint32) bool {
	if len(a) != len(b) || off < 0 || off+4 > len(a) {
		return false
	}
	if !bytes.Equal(a[:off], b[:off]) || !bytes.Equal(a[off+4:], b[off+4:]) {
		return false
	}
	return binary.LittleEndian.Uint32(a[off:])&^mask == binary.LittleEndian.Uint32(b[off:])&^mask
}

// isUniqueID reports a name made by __UNIQUE_ID() (GCC:
// __UNIQUE_ID___addressable_foo12.3, Clang: fn.__UNIQUE_ID___addressable_foo12).
func isUniqueID(name string) bool {
	return strings.HasPrefix(name, "__UNIQUE_ID_") || strings.Contains(name, ".__UNIQUE_ID_")
}

// correlateUniqueStatics pairs the __UNIQUE_ID_ function-scope statics
// that no function references (__ADDRESSABLE() keeps a symbol alive from
// inside a function, it is not used by it) by their prefix and content:
// their counters move when anything above them in the file adds one.
func (d *differ) correlateUniqueStatics() {
	var orig []*elfobj.Symbol
	for _, a := range d.orig.f.Symbols {
		if isStaticLocal(a) && isUniqueID(a.Name) && d.orig.sym[a].twin == nil && a.Section != nil {
			orig = append(orig, a)
		}
	}
	for _, b := range d.patched.f.Symbols {
		if !isStaticLocal(b) || !isUniqueID(b.Name) || d.patched.sym[b].twin != nil || b.Section == nil {
			continue
		}
		for _, a := range orig {
			if d.orig.sym[a].twin == nil && baseName(a.Name) == baseName(b.Name) && a.Size == b.Size && d.sameContent(a, b, 1) {
				d.pairSymbols(a, b)
				break
			}
		}
	}
}

// newUniqueStatic reports a __UNIQUE_ID_ static of the patched object that
// is simply new: every original static of its prefix found its twin, so
// the shared prefix (__addressable_foo for any user of foo) says nothing.
func (d *differ) newUniqueStatic(s *elfobj.Symbol) bool {
	if !isUniqueID(s.Name) {
		return false
	}
	for _, a := range d.orig.f.Symbols {
		if isStaticLocal(a) && d.orig.sym[a].twin == nil && baseName(a.Name) == baseName(s.Name) {
			return false
		}
	}
	return true
}
