// SPDX-License-Identifier: Apache-2.0

package elfobj

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is wrapped by every error about a malformed object.
var ErrMalformed = errors.New("malformed ELF object")

// maxObjectSize bounds what Read loads into memory.
const maxObjectSize = 1 << 30

// maxAlign bounds section alignment (kernel objects use at most a page;
// vmlinux-level 2 MiB alignment never appears in a relocatable object).
const maxAlign = 1 << 21

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Read parses an x86_64 little-endian ELF64 relocatable object.
func Read(r io.ReaderAt) (*File, error) {
	buf, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(buf)
}

func readAll(r io.ReaderAt) ([]byte, error) {
	var out bytes.Buffer
	chunk := make([]byte, 1<<20)
	for off := int64(0); ; {
		n, err := r.ReadAt(chunk, off)
		out.Write(chunk[:n])
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading ELF object: %w", err)
		}
		if off > maxObjectSize {
			return nil, malformed("object larger than %d bytes", maxObjectSize)
		}
	}
}

// Parse parses an object held in memory. The File shares no memory with buf.
func Parse(buf []byte) (*File, error) {
	var hdr elf.Header64
	if len(buf) < binary.Size(hdr) {
		return nil, malformed("file too short for an ELF header (%d bytes)", len(buf))
	}
	if _, err := binary.Decode(buf, binary.LittleEndian, &hdr); err != nil {
		return nil, malformed("ELF header: %v", err)
	}
	switch {
	case !bytes.Equal(hdr.Ident[:4], []byte(elf.ELFMAG)):
		return nil, malformed("bad magic %q", hdr.Ident[:4])
	case elf.Class(hdr.Ident[elf.EI_CLASS]) != elf.ELFCLASS64:
		return nil, malformed("not ELF64 (class %v)", elf.Class(hdr.Ident[elf.EI_CLASS]))
	case elf.Data(hdr.Ident[elf.EI_DATA]) != elf.ELFDATA2LSB:
		return nil, malformed("not little-endian")
	case elf.Type(hdr.Type) != elf.ET_REL:
		return nil, malformed("type %v, want ET_REL", elf.Type(hdr.Type))
	case elf.Machine(hdr.Machine) != elf.EM_X86_64:
		return nil, malformed("machine %v, want EM_X86_64", elf.Machine(hdr.Machine))
	case hdr.Phnum != 0:
		return nil, malformed("relocatable object has %d program headers", hdr.Phnum)
	}
	p := &parser{buf: buf, f: &File{
		OSABI:      elf.OSABI(hdr.Ident[elf.EI_OSABI]),
		ABIVersion: hdr.Ident[elf.EI_ABIVERSION],
		Machine:    elf.Machine(hdr.Machine),
		Flags:      hdr.Flags,
	}}
	if err := p.sections(&hdr); err != nil {
		return nil, err
	}
	if err := p.symbols(); err != nil {
		return nil, err
	}
	if err := p.links(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type parser struct {
	buf     []byte
	f       *File
	headers []elf.Section64
	symtab  *Section
	shndx   []uint32 // .symtab_shndx contents
}

func (p *parser) slice(off, size uint64, what string) ([]byte, error) {
	if off > uint64(len(p.buf)) || size > uint64(len(p.buf))-off {
		return nil, malformed("%s: range [%#x, +%#x) outside the file (%d bytes)", what, off, size, len(p.buf))
	}
	return p.buf[off : off+size], nil
}

func (p *parser) sections(hdr *elf.Header64) error {
	if hdr.Shoff == 0 {
		return malformed("no section header table")
	}
	if hdr.Shentsize != 64 {
		return malformed("section header size %d, want 64", hdr.Shentsize)
	}
	first, err := p.slice(hdr.Shoff, 64, "section header 0")
	if err != nil {
		return err
	}
	var sh0 elf.Section64
	binary.Decode(first, binary.LittleEndian, &sh0) //nolint:errcheck // length checked
	count := uint64(hdr.Shnum)
	if count == 0 {
		count = sh0.Size // extended numbering
	}
	shstrndx := uint32(hdr.Shstrndx)
	if shstrndx == uint32(elf.SHN_XINDEX) {
		shstrndx = sh0.Link
	}
	table, err := p.slice(hdr.Shoff, count*64, "section header table")
	if err != nil {
		return err
	}
	if count > uint64(len(p.buf))/64 {
		return malformed("%d section headers do not fit", count)
	}
	p.headers = make([]elf.Section64, count)
	if _, err := binary.Decode(table, binary.LittleEndian, p.headers); err != nil {
		return malformed("section headers: %v", err)
	}
	if uint64(shstrndx) >= count {
		return malformed("section name table index %d out of range", shstrndx)
	}
	shstr := p.headers[shstrndx]
	names, err := p.slice(shstr.Off, shstr.Size, "section name table")
	if err != nil {
		return err
	}
	p.f.Sections = make([]*Section, count)
	for i, h := range p.headers {
		s := &Section{
			Index:     i,
			Type:      elf.SectionType(h.Type),
			Flags:     elf.SectionFlag(h.Flags),
			Addr:      h.Addr,
			Addralign: h.Addralign,
			Entsize:   h.Entsize,
			Size:      h.Size,
			Info:      h.Info,
		}
		if i > 0 {
			if s.Name, err = cstring(names, h.Name); err != nil {
				return malformed("section %d name: %v", i, err)
			}
			if a := h.Addralign; a > maxAlign || a&(a-1) != 0 {
				return malformed("section %d (%s): alignment %#x is not a power of two up to %#x", i, s.Name, a, maxAlign)
			}
			if s.Type != elf.SHT_NOBITS {
				data, err := p.slice(h.Off, h.Size, fmt.Sprintf("section %d (%s)", i, s.Name))
				if err != nil {
					return err
				}
				s.Data = bytes.Clone(data)
			}
		}
		p.f.Sections[i] = s
		switch s.Type {
		case elf.SHT_SYMTAB:
			if p.symtab != nil {
				return malformed("more than one symbol table")
			}
			p.symtab = s
		case elf.SHT_SYMTAB_SHNDX:
			p.shndx = make([]uint32, len(s.Data)/4)
			binary.Decode(s.Data, binary.LittleEndian, p.shndx) //nolint:errcheck // sized above
		case elf.SHT_REL:
			return malformed("section %s: SHT_REL relocations are not supported on x86_64", s.Name)
		}
	}
	return nil
}

func cstring(tab []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(tab)) {
		if off == 0 {
			return "", nil
		}
		return "", fmt.Errorf("string offset %d outside table (%d bytes)", off, len(tab))
	}
	end := bytes.IndexByte(tab[off:], 0)
	if end < 0 {
		return "", fmt.Errorf("string at %d not terminated", off)
	}
	return string(tab[off : int(off)+end]), nil
}

func (p *parser) section(idx uint32, what string) (*Section, error) {
	if idx == 0 || uint64(idx) >= uint64(len(p.f.Sections)) {
		return nil, malformed("%s: section index %d out of range", what, idx)
	}
	return p.f.Sections[idx], nil
}

func (p *parser) symbols() error {
	if p.symtab == nil {
		return malformed("no symbol table")
	}
	h := p.headers[p.symtab.Index]
	if len(p.symtab.Data)%24 != 0 {
		return malformed("symbol table size %d is not a multiple of 24", len(p.symtab.Data))
	}
	strtab, err := p.section(h.Link, ".symtab sh_link")
	if err != nil {
		return err
	}
	raw := make([]elf.Sym64, len(p.symtab.Data)/24)
	binary.Decode(p.symtab.Data, binary.LittleEndian, raw) //nolint:errcheck // sized above
	if len(raw) == 0 {
		return malformed("empty symbol table")
	}
	p.f.Symbols = make([]*Symbol, len(raw))
	for i, r := range raw {
		name, err := cstring(strtab.Data, r.Name)
		if err != nil {
			return malformed("symbol %d name: %v", i, err)
		}
		s := &Symbol{
			Index: i, Name: name,
			Bind: elf.ST_BIND(r.Info), Type: elf.ST_TYPE(r.Info),
			Other: r.Other, Value: r.Value, Size: r.Size,
		}
		idx := uint32(r.Shndx)
		if elf.SectionIndex(r.Shndx) == elf.SHN_XINDEX {
			if i >= len(p.shndx) {
				return malformed("symbol %d (%s) uses SHN_XINDEX without .symtab_shndx", i, name)
			}
			idx = p.shndx[i]
		} else if r.Shndx == 0 || elf.SectionIndex(r.Shndx) >= elf.SHN_LORESERVE {
			s.Shndx = elf.SectionIndex(r.Shndx)
			idx = 0
		}
		if idx != 0 {
			if s.Section, err = p.section(idx, fmt.Sprintf("symbol %d (%s)", i, name)); err != nil {
				return err
			}
		}
		if s.Type == elf.STT_SECTION && s.Section != nil && s.Name == "" {
			s.Name = s.Section.Name
		}
		p.f.Symbols[i] = s
	}
	return nil
}

// links resolves sh_link/sh_info references and decodes relocations and groups.
func (p *parser) links() error {
	for i, s := range p.f.Sections[1:] {
		h := p.headers[i+1]
		switch s.Type {
		case elf.SHT_RELA:
			if err := p.relas(s, h); err != nil {
				return err
			}
		case elf.SHT_GROUP:
			if err := p.group(s, h); err != nil {
				return err
			}
		case elf.SHT_SYMTAB, elf.SHT_SYMTAB_SHNDX:
			s.Link, _ = p.section(h.Link, "")
		default:
			if h.Link != 0 && uint64(h.Link) < uint64(len(p.f.Sections)) {
				s.Link = p.f.Sections[h.Link]
			}
			if s.Flags&elf.SHF_INFO_LINK != 0 {
				return malformed("section %s: SHF_INFO_LINK on a %v section is not supported", s.Name, s.Type)
			}
		}
	}
	return nil
}

func (p *parser) symbol(idx uint32, what string) (*Symbol, error) {
	if uint64(idx) >= uint64(len(p.f.Symbols)) {
		return nil, malformed("%s: symbol index %d out of range (%d symbols)", what, idx, len(p.f.Symbols))
	}
	return p.f.Symbols[idx], nil
}

func (p *parser) relas(s *Section, h elf.Section64) error {
	if h.Link != uint32(p.symtab.Index) {
		return malformed("relocation section %s: sh_link %d is not the symbol table", s.Name, h.Link)
	}
	target, err := p.section(h.Info, "relocation section "+s.Name)
	if err != nil {
		return err
	}
	if target.IsRela() || target.Type == elf.SHT_SYMTAB || target.Type == elf.SHT_STRTAB || target.Type == elf.SHT_GROUP {
		return malformed("relocation section %s applies to %s, a %v section", s.Name, target.Name, target.Type)
	}
	// A finished livepatch module has .klp.rela.<obj>.<sec> sections next
	// to the normal .rela<sec>: the first ordinary one is Rela.
	s.Target = target
	if target.Rela == nil && !s.IsLivepatchRela() {
		target.Rela = s
	} else {
		target.MoreRelas = append(target.MoreRelas, s)
	}
	if len(s.Data)%24 != 0 {
		return malformed("relocation section %s: size %d is not a multiple of 24", s.Name, len(s.Data))
	}
	raw := make([]elf.Rela64, len(s.Data)/24)
	binary.Decode(s.Data, binary.LittleEndian, raw) //nolint:errcheck // sized above
	s.Relas = make([]*Rela, len(raw))
	for i, r := range raw {
		sym, err := p.symbol(elf.R_SYM64(r.Info), fmt.Sprintf("%s entry %d", s.Name, i))
		if err != nil {
			return err
		}
		s.Relas[i] = &Rela{Offset: r.Off, Type: elf.R_X86_64(elf.R_TYPE64(r.Info)), Sym: sym, Addend: r.Addend}
	}
	s.Data = nil
	return nil
}

func (p *parser) group(s *Section, h elf.Section64) error {
	if len(s.Data) < 4 || len(s.Data)%4 != 0 {
		return malformed("group section %s: size %d", s.Name, len(s.Data))
	}
	words := make([]uint32, len(s.Data)/4)
	binary.Decode(s.Data, binary.LittleEndian, words) //nolint:errcheck // sized above
	s.GroupFlags = words[0]
	sig, err := p.symbol(h.Info, "group "+s.Name)
	if err != nil {
		return err
	}
	s.GroupSig = sig
	for _, w := range words[1:] {
		m, err := p.section(w, "group "+s.Name)
		if err != nil {
			return err
		}
		s.GroupMember = append(s.GroupMember, m)
	}
	s.Data = nil
	return nil
}
