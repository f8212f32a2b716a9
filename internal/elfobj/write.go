// SPDX-License-Identifier: Apache-2.0

package elfobj

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
)

// Write serialises f as an ELF64 relocatable object. The symbol and string
// tables (and .symtab_shndx when section indices need it) are regenerated:
// existing SHT_SYMTAB, SHT_STRTAB and SHT_SYMTAB_SHNDX sections in f are
// replaced. Symbols are written locals first, in their order in f. Every
// section and symbol referenced must be part of f.
func Write(w io.Writer, f *File) error {
	l, err := layout(f)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := l.emit(bw); err != nil {
		return err
	}
	return bw.Flush()
}

type writer struct {
	f           *File
	secs        []*Section // output order, [0] is the null section
	secIndex    map[*Section]uint32
	syms        []*Symbol
	symIndex    map[*Symbol]uint32
	firstGlobal int

	symtab, strtab, shstrtab, shndx *Section
	headers                         []elf.Section64
	data                            [][]byte
	shoff                           uint64
	shstrIdx                        uint32
}

func layout(f *File) (*writer, error) {
	l := &writer{f: f, secIndex: map[*Section]uint32{}, symIndex: map[*Symbol]uint32{}}
	l.secs = append(l.secs, &Section{})
	for _, s := range f.Sections {
		if s == nil || s.Type == elf.SHT_NULL || s.Type == elf.SHT_SYMTAB || s.Type == elf.SHT_STRTAB || s.Type == elf.SHT_SYMTAB_SHNDX {
			continue
		}
		l.secs = append(l.secs, s)
	}
	l.symtab = &Section{Name: ".symtab", Type: elf.SHT_SYMTAB, Addralign: 8, Entsize: 24}
	l.strtab = &Section{Name: ".strtab", Type: elf.SHT_STRTAB, Addralign: 1}
	l.shstrtab = &Section{Name: ".shstrtab", Type: elf.SHT_STRTAB, Addralign: 1}
	l.secs = append(l.secs, l.symtab, l.strtab, l.shstrtab)
	if len(l.secs) >= int(elf.SHN_LORESERVE)-1 {
		l.shndx = &Section{Name: ".symtab_shndx", Type: elf.SHT_SYMTAB_SHNDX, Addralign: 4, Entsize: 4}
		l.secs = append(l.secs, l.shndx)
	}
	for i, s := range l.secs {
		if _, dup := l.secIndex[s]; dup {
			return nil, fmt.Errorf("writing ELF: section %s listed twice", s.Name)
		}
		l.secIndex[s] = uint32(i)
	}
	if err := l.orderSymbols(); err != nil {
		return nil, err
	}
	if err := l.build(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *writer) orderSymbols() error {
	if len(l.f.Symbols) == 0 || l.f.Symbols[0].Type != elf.STT_NOTYPE || l.f.Symbols[0].Name != "" {
		return fmt.Errorf("writing ELF: Symbols[0] must be the null symbol")
	}
	l.syms = append(l.syms, l.f.Symbols[0])
	for _, s := range l.f.Symbols[1:] {
		if s.Bind == elf.STB_LOCAL {
			l.syms = append(l.syms, s)
		}
	}
	l.firstGlobal = len(l.syms)
	for _, s := range l.f.Symbols[1:] {
		if s.Bind != elf.STB_LOCAL {
			l.syms = append(l.syms, s)
		}
	}
	for i, s := range l.syms {
		if _, dup := l.symIndex[s]; dup {
			return fmt.Errorf("writing ELF: symbol %s listed twice", s.Name)
		}
		l.symIndex[s] = uint32(i)
	}
	return nil
}

// strtab builds a string table; identical strings share an offset.
type strtab struct {
	buf bytes.Buffer
	off map[string]uint32
}

func newStrtab() *strtab {
	t := &strtab{off: map[string]uint32{"": 0}}
	t.buf.WriteByte(0)
	return t
}

func (t *strtab) add(s string) uint32 {
	if o, ok := t.off[s]; ok {
		return o
	}
	o := uint32(t.buf.Len())
	t.buf.WriteString(s)
	t.buf.WriteByte(0)
	t.off[s] = o
	return o
}

func (l *writer) sec(s *Section, what string) (uint32, error) {
	i, ok := l.secIndex[s]
	if !ok {
		return 0, fmt.Errorf("writing ELF: %s refers to section %s, which is not in the object", what, s.Name)
	}
	return i, nil
}

func (l *writer) sym(s *Symbol, what string) (uint32, error) {
	i, ok := l.symIndex[s]
	if !ok {
		return 0, fmt.Errorf("writing ELF: %s refers to symbol %s, which is not in the symbol table", what, s.Name)
	}
	return i, nil
}

func (l *writer) build() error {
	symtabIdx := l.secIndex[l.symtab]
	// Symbol table.
	strs := newStrtab()
	var symbuf bytes.Buffer
	var xindex []uint32
	needX := false
	for _, s := range l.syms {
		var shndx uint32
		if s.Section != nil {
			i, err := l.sec(s.Section, "symbol "+s.Name)
			if err != nil {
				return err
			}
			shndx = i
		} else {
			shndx = uint32(s.Shndx)
		}
		name := s.Name
		if s.Type == elf.STT_SECTION {
			name = ""
		}
		raw := elf.Sym64{Name: strs.add(name), Info: elf.ST_INFO(s.Bind, s.Type), Other: s.Other, Value: s.Value, Size: s.Size}
		x := uint32(0)
		if s.Section != nil && shndx >= uint32(elf.SHN_LORESERVE) {
			raw.Shndx, x, needX = uint16(elf.SHN_XINDEX), shndx, true
		} else {
			raw.Shndx = uint16(shndx)
		}
		xindex = append(xindex, x)
		binary.Write(&symbuf, binary.LittleEndian, &raw) //nolint:errcheck // bytes.Buffer
	}
	if needX && l.shndx == nil {
		return fmt.Errorf("writing ELF: internal error: extended section index without .symtab_shndx")
	}
	l.data = make([][]byte, len(l.secs))
	l.data[symtabIdx] = symbuf.Bytes()
	l.data[l.secIndex[l.strtab]] = strs.buf.Bytes()
	if l.shndx != nil {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, xindex) //nolint:errcheck // bytes.Buffer
		l.data[l.secIndex[l.shndx]] = b.Bytes()
	}
	// Section contents and headers.
	names := newStrtab()
	l.headers = make([]elf.Section64, len(l.secs))
	for i, s := range l.secs[1:] {
		i++
		h := &l.headers[i]
		h.Name = names.add(s.Name)
		h.Type, h.Flags, h.Addr, h.Addralign, h.Entsize, h.Info = uint32(s.Type), uint64(s.Flags), s.Addr, s.Addralign, s.Entsize, s.Info
		if s.Link != nil {
			li, err := l.sec(s.Link, "sh_link of "+s.Name)
			if err != nil {
				return err
			}
			h.Link = li
		}
		switch {
		case s == l.symtab:
			h.Link, h.Info = l.secIndex[l.strtab], uint32(l.firstGlobal)
		case s == l.shndx:
			h.Link = symtabIdx
		case s == l.strtab || s == l.shstrtab:
		case s.Type == elf.SHT_RELA:
			b, err := l.relaData(s)
			if err != nil {
				return err
			}
			l.data[i] = b
			ti, err := l.sec(s.Target, "relocation section "+s.Name)
			if err != nil {
				return err
			}
			h.Link, h.Info, h.Entsize = symtabIdx, ti, 24
			h.Flags |= uint64(elf.SHF_INFO_LINK)
			if h.Addralign == 0 {
				h.Addralign = 8
			}
		case s.Type == elf.SHT_GROUP:
			b, info, err := l.groupData(s)
			if err != nil {
				return err
			}
			l.data[i], h.Link, h.Info = b, symtabIdx, info
		default:
			l.data[i] = s.Data
		}
	}
	l.shstrIdx = l.secIndex[l.shstrtab]
	h := &l.headers[l.shstrIdx]
	h.Name = names.add(".shstrtab")
	l.data[l.shstrIdx] = names.buf.Bytes()
	// Offsets.
	off := uint64(64)
	for i, s := range l.secs[1:] {
		i++
		h := &l.headers[i]
		if s.Type == elf.SHT_NOBITS {
			h.Off, h.Size = off, s.Size
			continue
		}
		if a := h.Addralign; a > 1 {
			if a > maxAlign || a&(a-1) != 0 {
				return fmt.Errorf("writing ELF: section %s: alignment %#x is not a power of two up to %#x", s.Name, a, maxAlign)
			}
			off = (off + a - 1) &^ (a - 1)
		}
		h.Off, h.Size = off, uint64(len(l.data[i]))
		off += h.Size
	}
	l.shoff = (off + 7) &^ 7
	if l.shoff > maxObjectSize {
		return fmt.Errorf("writing ELF: object would be %d bytes, more than %d", l.shoff, maxObjectSize)
	}
	if len(l.secs) >= int(elf.SHN_LORESERVE) {
		l.headers[0].Size = uint64(len(l.secs))
	}
	if l.shstrIdx >= uint32(elf.SHN_LORESERVE) {
		l.headers[0].Link = l.shstrIdx
	}
	return nil
}

func (l *writer) relaData(s *Section) ([]byte, error) {
	raw := make([]elf.Rela64, len(s.Relas))
	for i, r := range s.Relas {
		si, err := l.sym(r.Sym, fmt.Sprintf("%s entry %d", s.Name, i))
		if err != nil {
			return nil, err
		}
		raw[i] = elf.Rela64{Off: r.Offset, Info: elf.R_INFO(si, uint32(r.Type)), Addend: r.Addend}
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, raw) //nolint:errcheck // bytes.Buffer
	return b.Bytes(), nil
}

func (l *writer) groupData(s *Section) ([]byte, uint32, error) {
	words := []uint32{s.GroupFlags}
	for _, m := range s.GroupMember {
		i, err := l.sec(m, "group "+s.Name)
		if err != nil {
			return nil, 0, err
		}
		words = append(words, i)
	}
	if s.GroupSig == nil {
		return nil, 0, fmt.Errorf("writing ELF: group %s has no signature symbol", s.Name)
	}
	si, err := l.sym(s.GroupSig, "group "+s.Name)
	if err != nil {
		return nil, 0, err
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, words) //nolint:errcheck // bytes.Buffer
	return b.Bytes(), si, nil
}

func (l *writer) emit(w io.Writer) error {
	hdr := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(l.f.Machine), Version: uint32(elf.EV_CURRENT),
		Shoff: l.shoff, Flags: l.f.Flags, Ehsize: 64, Shentsize: 64,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	hdr.Ident[elf.EI_OSABI] = byte(l.f.OSABI)
	hdr.Ident[elf.EI_ABIVERSION] = l.f.ABIVersion
	if hdr.Machine == 0 {
		hdr.Machine = uint16(elf.EM_X86_64)
	}
	if n := len(l.secs); n < int(elf.SHN_LORESERVE) {
		hdr.Shnum = uint16(n)
	}
	if l.shstrIdx < uint32(elf.SHN_LORESERVE) {
		hdr.Shstrndx = uint16(l.shstrIdx)
	} else {
		hdr.Shstrndx = uint16(elf.SHN_XINDEX)
	}
	if err := binary.Write(w, binary.LittleEndian, &hdr); err != nil {
		return fmt.Errorf("writing ELF header: %w", err)
	}
	pos := uint64(64)
	pad := func(to uint64) error {
		if to > pos {
			if _, err := w.Write(make([]byte, to-pos)); err != nil {
				return err
			}
			pos = to
		}
		return nil
	}
	for i := 1; i < len(l.secs); i++ {
		h := l.headers[i]
		if l.secs[i].Type == elf.SHT_NOBITS {
			continue
		}
		if err := pad(h.Off); err != nil {
			return fmt.Errorf("writing ELF: %w", err)
		}
		if _, err := w.Write(l.data[i]); err != nil {
			return fmt.Errorf("writing ELF section %s: %w", l.secs[i].Name, err)
		}
		pos += uint64(len(l.data[i]))
	}
	if err := pad(l.shoff); err != nil {
		return fmt.Errorf("writing ELF: %w", err)
	}
	if err := binary.Write(w, binary.LittleEndian, l.headers); err != nil {
		return fmt.Errorf("writing ELF section headers: %w", err)
	}
	return nil
}
