// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/livepatch"
)

// ErrUndefinedSymbols is wrapped when a linked module still references
// symbols that neither the kernel's exports nor the livepatch core resolve.
var ErrUndefinedSymbols = errors.New("undefined symbols")

// ErrBadKlpSymbol is wrapped when a livepatch symbol's object or symbol
// name is too long or malformed for the kernel (.klp.sym.<obj>.<name>,<pos>
// with a module name under MODULE_NAME_LEN and no comma in the name).
var ErrBadKlpSymbol = errors.New("malformed livepatch symbol")

// ErrVermagic is wrapped when the module was built for another kernel.
var ErrVermagic = errors.New("vermagic does not match the target kernel")

// klpRelaFlags are the flags of a .klp.rela section (readelf "AIo").
const klpRelaFlags = elf.SHF_ALLOC | elf.SHF_INFO_LINK | elfobj.SHFRelaLivepatch

// Finalize turns the linked module f into a livepatch module the kernel
// accepts: every undefined .klp.sym.<obj>.<name>,<pos> symbol becomes a
// SHN_LIVEPATCH symbol, and every relocation in an allocated section that
// refers to one moves into a .klp.rela.<obj>.<section> section, applied by
// the livepatch core when <obj> is present. A .klp.xsym.<relobj>.<obj>...
// symbol ([CrossKlpSymbolName]) becomes .klp.sym.<obj>... the same way,
// but its relocations go to .klp.rela.<relobj>.<section>: relobj is the
// module whose patched code refers to another module's symbol. Any other
// undefined symbol must be exported by the kernel (exported reports that), else Finalize fails
// with ErrUndefinedSymbols: modpost ran with warnings only, so this is the
// check that replaces its error.
//
// Finalize edits f in place; write it once, with elfobj.Write, and never
// reorder its symbol table afterwards.
func Finalize(f *elfobj.File, exported func(string) bool) error {
	var undefined []string
	relObj := map[*elfobj.Symbol]string{}
	for _, s := range f.Symbols[1:] {
		if !s.IsUndefined() || s.Shndx != elf.SHN_UNDEF || s.Type == elf.STT_SECTION {
			continue
		}
		rel, obj, name, _, final, ok := parseKlpReference(s.Name)
		if !ok {
			if exported == nil || !exported(s.Name) {
				undefined = append(undefined, s.Name)
			}
			continue
		}
		if len(obj) > livepatch.MaxModuleNameLen || len(rel) > livepatch.MaxModuleNameLen || len(name) >= 512 || strings.Contains(name, ",") {
			return fmt.Errorf("%w %s: object or symbol name too long or malformed", ErrBadKlpSymbol, s.Name)
		}
		relObj[s] = rel
		s.Name = final
		s.Shndx = elfobj.SHNLivepatch
		s.Value = 0
	}
	if len(undefined) > 0 {
		slices.Sort(undefined)
		undefined = slices.Compact(undefined)
		return fmt.Errorf("%w: %s (not exported by the kernel and not found in its symbol table)", ErrUndefinedSymbols, strings.Join(undefined, ", "))
	}
	var out []*elfobj.Section
	for _, sec := range f.Sections {
		out = append(out, sec)
		if sec == nil || !sec.IsRela() || sec.Target == nil || sec.Target.Flags&elf.SHF_ALLOC == 0 || sec.Flags&elfobj.SHFRelaLivepatch != 0 {
			continue
		}
		byObj := map[string]*elfobj.Section{}
		var order []string
		keep := sec.Relas[:0:0]
		for _, r := range sec.Relas {
			if r.Sym == nil || r.Sym.Shndx != elfobj.SHNLivepatch {
				keep = append(keep, r)
				continue
			}
			obj, ok := relObj[r.Sym]
			if !ok { // SHN_LIVEPATCH already: its final name says
				obj, _, _, _ = parseKlpSymbol(r.Sym.Name)
			}
			k := byObj[obj]
			if k == nil {
				k = &elfobj.Section{
					Name: ".klp.rela." + obj + "." + sec.Target.Name, Type: elf.SHT_RELA,
					Flags: klpRelaFlags, Addralign: 8, Entsize: 24, Target: sec.Target,
				}
				byObj[obj] = k
				order = append(order, obj)
			}
			k.Relas = append(k.Relas, r)
		}
		sec.Relas = keep
		for _, obj := range order {
			out = append(out, byObj[obj])
		}
	}
	f.Sections = out
	return nil
}

// ModInfo returns the values of tag in the module's .modinfo section.
func ModInfo(f *elfobj.File, tag string) []string {
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil
	}
	var vals []string
	for _, kv := range bytes.Split(sec.Data, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok && k == tag {
			vals = append(vals, v)
		}
	}
	return vals
}

// CheckVermagic checks that the module's vermagic names kernel release
// (the module loader compares it with the running kernel's).
func CheckVermagic(f *elfobj.File, release string) error {
	vm := ModInfo(f, "vermagic")
	if len(vm) != 1 {
		return fmt.Errorf("module has %d vermagic entries, want 1: %w", len(vm), ErrVermagic)
	}
	if got, _, _ := strings.Cut(vm[0], " "); got != release {
		return fmt.Errorf("module vermagic %q, target kernel %s: %w", vm[0], release, ErrVermagic)
	}
	return nil
}
