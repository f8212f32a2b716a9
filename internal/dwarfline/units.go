// SPDX-License-Identifier: Apache-2.0

package dwarfline

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
)

// Unit is one compilation unit of a linked kernel image or module: its
// primary source file and every file its line table names (the source,
// and each header that contributed code or a declaration the debug
// information describes).
type Unit struct {
	Name    string   // DW_AT_name joined with CompDir, cleaned
	CompDir string   // DW_AT_comp_dir
	Files   []string // the line table's file names, joined with their directory and CompDir, cleaned
}

// Units lists the compilation units of an ELF file with DWARF (vmlinux,
// a module or its .ko.debug) and the files each one used. Only the unit
// entries and the line table headers are decoded, so a distribution
// vmlinux takes seconds, not the minutes a walk of every entry would.
func Units(r io.ReaderAt) (units []Unit, err error) {
	defer func() {
		if p := recover(); p != nil {
			units, err = nil, fmt.Errorf("%w: %v", ErrInternal, p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("dwarfline: %w", err)
	}
	info := f.Section(".debug_info")
	if info == nil || f.Section(".debug_line") == nil {
		return nil, ErrNoLineTable
	}
	infoData, err := info.Data()
	if err != nil {
		return nil, fmt.Errorf("dwarfline: .debug_info: %w", err)
	}
	var d *dwarf.Data
	if f.Type == elf.ET_REL {
		// A module's debug file: its sections need relocating, which
		// the standard library does (they are small).
		d, err = f.DWARF()
	} else {
		d, err = linkedDWARF(f, infoData)
	}
	if err != nil {
		return nil, fmt.Errorf("dwarfline: %w", err)
	}
	offsets, err := unitEntryOffsets(infoData)
	if err != nil {
		return nil, fmt.Errorf("dwarfline: .debug_info: %w", err)
	}
	rd := d.Reader()
	for _, off := range offsets {
		rd.Seek(off)
		e, err := rd.Next()
		if err != nil {
			return nil, fmt.Errorf("dwarfline: .debug_info unit at %#x: %w", off, err)
		}
		if e == nil || (e.Tag != dwarf.TagCompileUnit && e.Tag != dwarf.TagPartialUnit) {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		dir, _ := e.Val(dwarf.AttrCompDir).(string)
		u := Unit{Name: joinDir(dir, name), CompDir: dir}
		lr, err := d.LineReader(e)
		if err != nil {
			return nil, fmt.Errorf("dwarfline: .debug_line of %s: %w", name, err)
		}
		if lr != nil {
			seen := map[string]bool{}
			for _, lf := range lr.Files() {
				if lf == nil || lf.Name == "" {
					continue
				}
				p := joinDir(dir, lf.Name)
				if !seen[p] {
					seen[p] = true
					u.Files = append(u.Files, p)
				}
			}
		}
		units = append(units, u)
	}
	return units, nil
}

// linkedDWARF builds the DWARF data of a linked image from the sections
// unit entries and line table headers need (a kernel's location lists and
// frame tables are left unread).
func linkedDWARF(f *elf.File, info []byte) (*dwarf.Data, error) {
	sec := func(name string) ([]byte, error) {
		s := f.Section(name)
		if s == nil {
			return nil, nil
		}
		return s.Data()
	}
	var abbrev, line, str []byte
	var err error
	for name, dst := range map[string]*[]byte{".debug_abbrev": &abbrev, ".debug_line": &line, ".debug_str": &str} {
		if *dst, err = sec(name); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	d, err := dwarf.New(abbrev, nil, nil, info, line, nil, nil, str)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{".debug_line_str", ".debug_str_offsets"} {
		data, err := sec(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if data != nil {
			if err := d.AddSection(name, data); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return d, nil
}

// unitEntryOffsets returns the offset of each unit's first entry in
// .debug_info, from the unit headers alone.
func unitEntryOffsets(info []byte) ([]dwarf.Offset, error) {
	var offs []dwarf.Offset
	for off := uint64(0); off < uint64(len(info)); {
		if uint64(len(info))-off < 4 {
			return nil, fmt.Errorf("truncated unit header at %#x", off)
		}
		length, hdr, offSize := uint64(binary.LittleEndian.Uint32(info[off:])), uint64(4), uint64(4)
		if length == 0xffffffff {
			if uint64(len(info))-off < 12 {
				return nil, fmt.Errorf("truncated unit header at %#x", off)
			}
			length, hdr, offSize = binary.LittleEndian.Uint64(info[off+4:]), 12, 8
		}
		if length < 3 || length > uint64(len(info))-off-hdr {
			return nil, fmt.Errorf("unit at %#x: length %d past the section's end", off, length)
		}
		version := binary.LittleEndian.Uint16(info[off+hdr:])
		var first uint64
		switch {
		case version >= 2 && version <= 4:
			first = off + hdr + 2 + offSize + 1 // version, abbrev offset, address size
		case version == 5:
			switch info[off+hdr+2] { // unit type
			case 0x01, 0x03: // DW_UT_compile, DW_UT_partial
				first = off + hdr + 2 + 1 + 1 + offSize
			default: // type, skeleton and split units hold no code of their own
				off += hdr + length
				continue
			}
		default:
			return nil, fmt.Errorf("unit at %#x: DWARF version %d", off, version)
		}
		offs = append(offs, dwarf.Offset(first))
		off += hdr + length
	}
	if len(offs) == 0 {
		return nil, errors.New("no units")
	}
	return offs, nil
}

func joinDir(dir, name string) string {
	if name == "" || path.IsAbs(name) || dir == "" {
		return path.Clean(name)
	}
	return path.Join(dir, name)
}
