// SPDX-License-Identifier: Apache-2.0

// Package dwarfline reads the DWARF line table of an ELF relocatable
// object and says, for each row, which section and offset the code of a
// source line sits at.
//
// The standard library applies a relocatable object's debug relocations
// as if every section started at address 0; with -ffunction-sections
// every function then starts at 0 and a line's address no longer says
// which function holds it. Here each allocated section gets its own
// distinct base address (its index in the upper 32 bits) before the
// line table is decoded, so every row keeps its section.
package dwarfline

import (
	"bytes"
	"compress/zlib"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// ErrNoLineTable is returned for an object built without debug line
// information (-g).
var ErrNoLineTable = errors.New("object has no DWARF line table (built without -g)")

// ErrInternal marks a panic recovered while decoding: input that no check
// foresaw. Fuzz targets fail on it.
var ErrInternal = errors.New("dwarfline: internal error on unexpected input (please report)")

// Row is one line-table row: code that came from File:Line starts at
// Offset in the section whose index (in the object as read) is Section.
type Row struct {
	File    string // as the compiler recorded it, joined with the compilation directory
	Line    int
	Section int
	Offset  uint64
}

// maxDecompressed caps one decompressed debug section (bomb guard).
const maxDecompressed = 1 << 30

// Read returns every row of f's line tables, end-of-sequence rows
// excluded. Rows whose address no relocation placed in a section (code
// the compiler discarded) have Section 0.
func Read(f *elfobj.File) (rows []Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("%w: %v", ErrInternal, p)
		}
	}()
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("dwarfline: machine %v: only x86_64 relocations are understood", f.Machine)
	}
	secs := map[string][]byte{}
	for _, name := range []string{".debug_abbrev", ".debug_info", ".debug_line", ".debug_str", ".debug_line_str",
		".debug_str_offsets", ".debug_addr", ".debug_ranges", ".debug_rnglists"} {
		s := f.Section(name)
		if s == nil {
			continue
		}
		data, err := relocated(s)
		if err != nil {
			return nil, fmt.Errorf("dwarfline: %s: %w", name, err)
		}
		secs[name] = data
	}
	if secs[".debug_line"] == nil || secs[".debug_info"] == nil || secs[".debug_abbrev"] == nil {
		return nil, ErrNoLineTable
	}
	d, err := dwarf.New(secs[".debug_abbrev"], nil, nil, secs[".debug_info"], secs[".debug_line"], nil,
		secs[".debug_ranges"], secs[".debug_str"])
	if err != nil {
		return nil, fmt.Errorf("dwarfline: %w", err)
	}
	for _, name := range []string{".debug_line_str", ".debug_str_offsets", ".debug_addr", ".debug_rnglists"} {
		if data := secs[name]; data != nil {
			if err := d.AddSection(name, data); err != nil {
				return nil, fmt.Errorf("dwarfline: %s: %w", name, err)
			}
		}
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("dwarfline: .debug_info: %w", err)
		}
		if e == nil {
			return rows, nil
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(e)
		if err != nil {
			return nil, fmt.Errorf("dwarfline: .debug_line: %w", err)
		}
		r.SkipChildren()
		if lr == nil {
			continue
		}
		var le dwarf.LineEntry
		for {
			if err := lr.Next(&le); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("dwarfline: .debug_line: %w", err)
			}
			if le.EndSequence || le.File == nil {
				continue
			}
			rows = append(rows, Row{File: le.File.Name, Line: le.Line, Section: int(le.Address >> 32), Offset: le.Address & 0xffffffff})
		}
	}
}

// relocated returns the section's contents with its relocations applied,
// allocated sections based at their index << 32.
func relocated(s *elfobj.Section) ([]byte, error) {
	data := s.Data
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		var err error
		if data, err = decompress(data); err != nil {
			return nil, err
		}
	} else {
		data = bytes.Clone(data)
	}
	for _, rs := range s.RelaSections() {
		for _, r := range rs.Relas {
			var base uint64
			if r.Sym.Section != nil {
				if r.Sym.Section.Flags&elf.SHF_ALLOC != 0 {
					base = uint64(r.Sym.Section.Index) << 32
				}
				base += r.Sym.Value
			}
			v := base + uint64(r.Addend)
			switch r.Type {
			case elf.R_X86_64_64:
				if r.Offset+8 > uint64(len(data)) {
					return nil, fmt.Errorf("relocation at %#x past the end (%d bytes)", r.Offset, len(data))
				}
				binary.LittleEndian.PutUint64(data[r.Offset:], v)
			case elf.R_X86_64_32, elf.R_X86_64_32S:
				if r.Offset+4 > uint64(len(data)) {
					return nil, fmt.Errorf("relocation at %#x past the end (%d bytes)", r.Offset, len(data))
				}
				binary.LittleEndian.PutUint32(data[r.Offset:], uint32(v))
			case elf.R_X86_64_NONE:
			default:
				return nil, fmt.Errorf("relocation type %v at %#x is not used in debug sections", r.Type, r.Offset)
			}
		}
	}
	return data, nil
}

// decompress unpacks an SHF_COMPRESSED section (ELFCOMPRESS_ZLIB).
func decompress(data []byte) ([]byte, error) {
	if len(data) < 24 {
		return nil, errors.New("compressed section shorter than its header")
	}
	typ, size := binary.LittleEndian.Uint32(data), binary.LittleEndian.Uint64(data[8:])
	if elf.CompressionType(typ) != elf.COMPRESS_ZLIB {
		return nil, fmt.Errorf("compression type %d: only zlib is supported", typ)
	}
	if size > maxDecompressed {
		return nil, fmt.Errorf("compressed section claims %d bytes, more than the %d allowed", size, maxDecompressed)
	}
	zr, err := zlib.NewReader(bytes.NewReader(data[24:]))
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	return out, nil
}
