// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// Module is a module file as read from disk.
type Module struct {
	// Path is the file it was read from ("" for ParseModule).
	Path string `json:"path"`
	// Name is the in-kernel name: the one in .gnu.linkonce.this_module
	// (falling back to modinfo's name), which sysfs uses.
	Name string `json:"name"`
	// Info is the .modinfo section.
	Info ModInfo `json:"info"`
	// Signed reports an appended module signature.
	Signed bool `json:"signed"`
	// Compression of the file.
	Compression Compression `json:"compression"`
	// Image is the uncompressed ELF image.
	Image []byte `json:"-"`
}

// thisModuleNameOff is the offset of struct module's name on 64-bit kernels:
// enum module_state (4 bytes, padded to 8) then a struct list_head (16).
const (
	thisModuleNameOff = 24
	moduleNameLen     = 56 // MODULE_NAME_LEN on 64-bit
)

// ReadModule reads and parses a module file: plain, .gz, .xz or .zst.
func ReadModule(path string) (*Module, error) {
	data, err := readModuleFile(path, MaxModuleSize)
	if errors.Is(err, ErrModuleTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseModule(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// ParseModule parses a module file's contents (compressed or not).
func ParseModule(data []byte) (*Module, error) {
	img, c, err := Decompress(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	m := &Module{Compression: c, Image: img, Signed: bytes.HasSuffix(img, []byte(modsign.Magic))}
	modinfo, thisModule, err := moduleSections(img)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	mi, err := ParseModInfo(modinfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	m.Info = *mi
	m.Name = thisModuleName(thisModule)
	if m.Name == "" {
		m.Name = mi.Name
	}
	if m.Name == "" {
		return nil, fmt.Errorf("%w: no module name in .gnu.linkonce.this_module or .modinfo", ErrBadModule)
	}
	return m, nil
}

// ErrInternal marks a panic recovered while reading a module (debug/elf can
// panic on corrupt input): a bug to report, not a description of the file,
// and one the fuzz targets fail on. It comes with ErrBadModule.
var ErrInternal = errors.New("kmod: internal error on unexpected input (please report)")

// moduleSections returns the contents of .modinfo and
// .gnu.linkonce.this_module. debug/elf can panic on corrupt input, so the
// panic becomes an error.
func moduleSections(img []byte) (modinfo, thisModule []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			modinfo, thisModule, err = nil, nil, fmt.Errorf("%w: %v", ErrInternal, r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return nil, nil, fmt.Errorf("not an ELF file: %w", err)
	}
	if f.Type != elf.ET_REL {
		return nil, nil, fmt.Errorf("ELF type %v, want ET_REL", f.Type)
	}
	mis := f.Section(".modinfo")
	if mis == nil {
		return nil, nil, fmt.Errorf("no .modinfo section")
	}
	if modinfo, err = sectionData(mis, len(img)); err != nil {
		return nil, nil, fmt.Errorf(".modinfo: %w", err)
	}
	if tm := f.Section(".gnu.linkonce.this_module"); tm != nil {
		if thisModule, err = sectionData(tm, len(img)); err != nil {
			return nil, nil, fmt.Errorf(".gnu.linkonce.this_module: %w", err)
		}
	}
	return modinfo, thisModule, nil
}

func sectionData(s *elf.Section, fileSize int) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	if s.Size > uint64(fileSize) {
		return nil, fmt.Errorf("size %d beyond the file (%d bytes)", s.Size, fileSize)
	}
	return s.Data()
}

func thisModuleName(sec []byte) string {
	if len(sec) < thisModuleNameOff+1 {
		return ""
	}
	name := sec[thisModuleNameOff:min(len(sec), thisModuleNameOff+moduleNameLen)]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == '/' {
			return ""
		}
	}
	return string(name)
}
