// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"debug/elf"
	"errors"
	"fmt"
	"strings"
)

// elfSym is the part of a symbol table entry a SymbolTable keeps.
type elfSym struct {
	name  string
	info  byte
	shndx elf.SectionIndex
	value uint64
}

// elfSymbols returns f's symbol table (the null entry left out) as
// f.Symbols does, but for 64-bit files with every name cut from one copy
// of the string table instead of allocated on its own: vmlinux has some
// 150,000 symbols, and this read is part of every build.
func elfSymbols(f *elf.File) ([]elfSym, error) {
	if f.Class != elf.ELFCLASS64 {
		syms, err := f.Symbols()
		if err != nil {
			return nil, err
		}
		out := make([]elfSym, len(syms))
		for i, s := range syms {
			out[i] = elfSym{name: s.Name, info: s.Info, shndx: s.Section, value: s.Value}
		}
		return out, nil
	}
	symtab := f.SectionByType(elf.SHT_SYMTAB)
	if symtab == nil {
		return nil, elf.ErrNoSymbols
	}
	data, err := symtab.Data()
	if err != nil {
		return nil, fmt.Errorf("cannot load symbol section: %w", err)
	}
	if len(data) == 0 {
		return nil, elf.ErrNoSymbols
	}
	if len(data)%elf.Sym64Size != 0 {
		return nil, errors.New("length of symbol section is not a multiple of Sym64Size")
	}
	if symtab.Link == 0 || symtab.Link >= uint32(len(f.Sections)) {
		return nil, errors.New("symbol section has an invalid string table link")
	}
	strdata, err := f.Sections[symtab.Link].Data()
	if err != nil {
		return nil, fmt.Errorf("cannot load string table section: %w", err)
	}
	strs := string(strdata)
	bo := f.ByteOrder
	out := make([]elfSym, 0, len(data)/elf.Sym64Size-1)
	for off := elf.Sym64Size; off < len(data); off += elf.Sym64Size {
		e := data[off : off+elf.Sym64Size]
		out = append(out, elfSym{
			name:  strtabString(strs, bo.Uint32(e[0:4])),
			info:  e[4],
			shndx: elf.SectionIndex(bo.Uint16(e[6:8])),
			value: bo.Uint64(e[8:16]),
		})
	}
	return out, nil
}

// strtabString returns the NUL-terminated string at off of a string
// table; "" when off is outside it or the string is unterminated, as
// debug/elf reads it.
func strtabString(strs string, off uint32) string {
	if uint64(off) >= uint64(len(strs)) {
		return ""
	}
	s := strs[off:]
	if end := strings.IndexByte(s, 0); end >= 0 {
		return s[:end]
	}
	return ""
}
