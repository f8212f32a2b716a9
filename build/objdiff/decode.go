// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"debug/elf"
	"sort"

	"golang.org/x/arch/x86/x86asm"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// insn is one decoded instruction of a text section.
type insn struct {
	off, len int
	inst     x86asm.Inst
	ok       bool // false: x86asm could not decode; len is 1
}

// decode returns the instructions of a text section, decoded once.
func (o *object) decode(sec *elfobj.Section) []insn {
	if ins, ok := o.insns[sec]; ok {
		return ins
	}
	var out []insn
	for off := 0; off < len(sec.Data); {
		in, err := x86asm.Decode(sec.Data[off:], 64)
		if err != nil || in.Len == 0 {
			out = append(out, insn{off: off, len: 1})
			off++
			continue
		}
		out = append(out, insn{off: off, len: in.Len, inst: in, ok: true})
		off += in.Len
	}
	o.insns[sec] = out
	return out
}

// insnAt returns the instruction that contains byte off of a text section.
func (o *object) insnAt(sec *elfobj.Section, off uint64) (insn, bool) {
	ins := o.decode(sec)
	i := sort.Search(len(ins), func(i int) bool { return uint64(ins[i].off+ins[i].len) > off })
	if i == len(ins) || uint64(ins[i].off) > off || !ins[i].ok {
		return insn{}, false
	}
	return ins[i], true
}

func isPCRelative(t elf.R_X86_64) bool {
	return t == elf.R_X86_64_PC32 || t == elf.R_X86_64_PLT32
}

// targetOffset is the offset in the referenced section a relocation points
// at. For PC-relative relocations in code the addend also holds the
// distance from the relocated field to the end of its instruction, which
// is added back here (usually 4, more with an immediate operand).
func (o *object) targetOffset(sec *elfobj.Section, r *elfobj.Rela) int64 {
	if !isPCRelative(r.Type) || !isText(sec) {
		return r.Addend
	}
	if in, ok := o.insnAt(sec, r.Offset); ok {
		return r.Addend + int64(in.off+in.len) - int64(r.Offset)
	}
	return r.Addend + 4
}
