// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// klpSymPrefix starts the names of symbols the livepatch core resolves.
const klpSymPrefix = ".klp.sym."

// KlpSymbolName is the name of the symbol the livepatch core resolves to
// the sympos-th name in target obj: .klp.sym.<obj>.<name>,<pos>.
func KlpSymbolName(obj, name string, pos int) string {
	return klpSymPrefix + obj + "." + name + "," + strconv.Itoa(pos)
}

// crossKlpPrefix starts the link-time name of a klp symbol whose
// relocations belong to another object's .klp.rela sections than the
// symbol's own object: .klp.xsym.<relobj>.<obj>.<name>,<pos>. [Finalize]
// renames it to .klp.sym.<obj>.<name>,<pos> and puts the relocations in
// .klp.rela.<relobj>.<section>. Module names hold no '.', so the name
// splits without ambiguity; no kernel ever sees it.
const crossKlpPrefix = ".klp.xsym."

// CrossKlpSymbolName is the link-time name of a reference, from code
// patched into module relObj, to symbol name (the pos-th) of another
// module obj. The livepatch core applies a .klp.rela.<objname> section
// only when <objname> is loaded and looks the .klp.sym symbol up in its
// own object, so the section must be the patched module's (its code is
// then there to relocate) while the symbol names the module that defines
// it: .klp.rela.<relObj>.<section> against .klp.sym.<obj>.<name>,<pos>.
func CrossKlpSymbolName(relObj, obj, name string, pos int) string {
	return crossKlpPrefix + relObj + "." + strings.TrimPrefix(KlpSymbolName(obj, name, pos), klpSymPrefix)
}

// parseKlpReference parses a klp symbol's link-time name, either form:
// relObj is the object whose .klp.rela sections hold its relocations,
// final the name the kernel sees.
func parseKlpReference(s string) (relObj, obj, name string, pos int, final string, ok bool) {
	if rest, cross := strings.CutPrefix(s, crossKlpPrefix); cross {
		var found bool
		if relObj, rest, found = strings.Cut(rest, "."); !found || relObj == "" {
			return "", "", "", 0, "", false
		}
		final = klpSymPrefix + rest
		if obj, name, pos, ok = parseKlpSymbol(final); !ok || obj == relObj {
			return "", "", "", 0, "", false
		}
		return relObj, obj, name, pos, final, true
	}
	if obj, name, pos, ok = parseKlpSymbol(s); !ok {
		return "", "", "", 0, "", false
	}
	return obj, obj, name, pos, s, true
}

// parseKlpSymbol splits a .klp.sym name into its object, name and position.
func parseKlpSymbol(s string) (obj, name string, pos int, ok bool) {
	rest, found := strings.CutPrefix(s, klpSymPrefix)
	if !found {
		return "", "", 0, false
	}
	obj, rest, found = strings.Cut(rest, ".")
	if !found || obj == "" {
		return "", "", 0, false
	}
	comma := strings.LastIndexByte(rest, ',')
	if comma <= 0 {
		return "", "", 0, false
	}
	pos, err := strconv.Atoi(rest[comma+1:])
	if err != nil || pos < 0 {
		return "", "", 0, false
	}
	return obj, rest[:comma], pos, true
}

// AliasFunction adds a global symbol alias for the function name defined
// in f, so that the generated klp_func table can refer to code whose own
// symbol is local (the differ makes changed functions local).
func AliasFunction(f *elfobj.File, name, alias string) error {
	var fn *elfobj.Symbol
	for _, s := range f.Symbols {
		if s.Name == name && s.Type == elf.STT_FUNC && s.Section != nil {
			fn = s
			break
		}
	}
	if fn == nil {
		return fmt.Errorf("patch object: no function %s to alias", name)
	}
	if f.Symbol(alias) != nil {
		return fmt.Errorf("patch object: alias %s already defined", alias)
	}
	f.Symbols = append(f.Symbols, &elfobj.Symbol{
		Name: alias, Bind: elf.STB_GLOBAL, Type: elf.STT_FUNC, Other: uint8(elf.STV_HIDDEN),
		Section: fn.Section, Value: fn.Value, Size: fn.Size,
	})
	return nil
}

// RenameUndefined renames the undefined symbol from to to, so that the
// reference survives the kbuild link under its final .klp.sym name and
// two targets' statics of the same name stay apart.
func RenameUndefined(f *elfobj.File, from, to string) error {
	n := 0
	for _, s := range f.Symbols {
		if s.Name == from && s.IsUndefined() && s.Shndx == elf.SHN_UNDEF {
			s.Name = to
			if s.Bind == elf.STB_LOCAL {
				s.Bind = elf.STB_GLOBAL
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("patch object: no undefined symbol %s to rename", from)
	}
	return nil
}
