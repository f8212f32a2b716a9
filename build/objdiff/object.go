// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"strings"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// status is the comparison result of a section or symbol.
type status int

const (
	statusNew status = iota // only in the patched object (or never correlated)
	statusSame
	statusChanged
)

func (s status) String() string {
	return [...]string{"NEW", "SAME", "CHANGED"}[s]
}

// secState is what the differ knows about one section.
type secState struct {
	twin    *elfobj.Section
	status  status
	bundled *elfobj.Symbol   // the FUNC/OBJECT the section exists for
	symbol  *elfobj.Symbol   // the section symbol
	defined []*elfobj.Symbol // FUNC and OBJECT symbols defined in it
	include bool
}

// symState is what the differ knows about one symbol.
type symState struct {
	twin     *elfobj.Symbol
	status   status
	include  bool
	parent   *elfobj.Symbol   // for .cold/.part children
	children []*elfobj.Symbol // compiler children of a function
	fentry   bool             // the function starts with a __fentry__ call
}

// object is one side of the diff.
type object struct {
	name string
	f    *elfobj.File
	sec  map[*elfobj.Section]*secState
	sym  map[*elfobj.Symbol]*symState
	// insns caches decoded instruction boundaries per text section.
	insns map[*elfobj.Section][]insn
}

func newObject(name string, f *elfobj.File) *object {
	o := &object{name: name, f: f,
		sec:   make(map[*elfobj.Section]*secState, len(f.Sections)),
		sym:   make(map[*elfobj.Symbol]*symState, len(f.Symbols)),
		insns: map[*elfobj.Section][]insn{},
	}
	for _, s := range f.Sections {
		o.sec[s] = &secState{}
	}
	for _, s := range f.Symbols {
		o.sym[s] = &symState{}
		if s.Section == nil {
			continue
		}
		st := o.sec[s.Section]
		switch s.Type {
		case elf.STT_SECTION:
			if st.symbol == nil {
				st.symbol = s
			}
		case elf.STT_FUNC, elf.STT_OBJECT:
			st.defined = append(st.defined, s)
		}
	}
	return o
}

func isText(s *elfobj.Section) bool {
	return s != nil && s.Flags&elf.SHF_EXECINSTR != 0
}

// isStringSection reports string-literal sections, compared by content.
func isStringSection(s *elfobj.Section) bool {
	return s != nil && (s.Flags&elf.SHF_STRINGS != 0 || strings.Contains(s.Name, ".str1.") || strings.HasPrefix(s.Name, ".rodata.str"))
}

func isDebug(s *elfobj.Section) bool {
	return strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".rela.debug_")
}

// isData reports writable data sections whose inclusion would fork state.
func isData(s *elfobj.Section) bool {
	n := s.Name
	return (n == ".data" || n == ".bss" || strings.HasPrefix(n, ".data.") || strings.HasPrefix(n, ".bss.") || strings.HasPrefix(n, ".data..")) &&
		n != ".data.unlikely" && n != ".data.once" && !strings.HasPrefix(n, ".data.unlikely.") && !strings.HasPrefix(n, ".data.once.")
}

// isFunc reports a function symbol defined in a section.
func isFunc(s *elfobj.Symbol) bool { return s.Type == elf.STT_FUNC && s.Section != nil }

// isStaticLocal reports function-scope static variables (name.N).
func isStaticLocal(s *elfobj.Symbol) bool {
	return s.Bind == elf.STB_LOCAL && s.Type == elf.STT_OBJECT && strings.Contains(s.Name, ".") && !neverCorrelated(s.Name)
}

// fentryNames are the ftrace entry calls a patchable function starts with.
func isFentry(s *elfobj.Symbol) bool { return s.Name == "__fentry__" || s.Name == "mcount" }

// relas returns the relocations applied to a section, or nil.
func relas(s *elfobj.Section) []*elfobj.Rela {
	if s == nil || s.Rela == nil {
		return nil
	}
	return s.Rela.Relas
}
