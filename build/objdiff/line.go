// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// lineNumberCallees take a __LINE__ value in their second or third
// argument (WARN, might_sleep, printk-style reporting).
var lineNumberCallees = map[string]bool{
	"__warn_printk": true, "warn_slowpath_fmt": true, "warn_slowpath_null": true,
	"warn_slowpath_fmt_taint": true, "__might_sleep": true, "___might_sleep": true,
	"__might_fault": true, "__might_resched": true, "printk": true, "_printk": true,
	"lockdep_rcu_suspicious": true, "__btrfs_abort_transaction": true,
	"btrfs_handle_fs_error": true, "__btrfs_handle_fs_error": true, "__btrfs_panic": true,
}

// onlyLineNumbersChanged reports a text section whose only differences
// are __LINE__ immediates loaded into the second or third argument
// register right before a call to one of lineNumberCallees: moving code
// around in a file must not make every WARN site look changed.
func (d *differ) onlyLineNumbersChanged(a, b *elfobj.Section) bool {
	if len(a.Data) != len(b.Data) || (a.Rela == nil) != (b.Rela == nil) || (a.Rela != nil && !d.relasEqual(a, b)) {
		return false
	}
	ia, ib := d.orig.decode(a), d.patched.decode(b)
	if len(ia) != len(ib) {
		return false
	}
	for i := range ia {
		x, y := ia[i], ib[i]
		if x.off != y.off || x.len != y.len {
			return false
		}
		if bytes.Equal(a.Data[x.off:x.off+x.len], b.Data[y.off:y.off+y.len]) {
			continue
		}
		if !isLineLoad(x) || !isLineLoad(y) || !d.patched.callsLineUser(b, ib[i+1:]) {
			return false
		}
	}
	d.nameState().lineHits++
	return true
}

// isLineLoad matches "mov $imm, %esi" and "mov $imm, %edx".
func isLineLoad(in insn) bool {
	if !in.ok || in.inst.Op != x86asm.MOV {
		return false
	}
	reg, ok := in.inst.Args[0].(x86asm.Reg)
	if !ok || (reg != x86asm.ESI && reg != x86asm.EDX) {
		return false
	}
	_, imm := in.inst.Args[1].(x86asm.Imm)
	return imm
}

// callsLineUser reports whether the next call among the following
// instructions goes to a function that takes a line number.
func (o *object) callsLineUser(sec *elfobj.Section, next []insn) bool {
	for _, in := range next {
		if !in.ok || in.inst.Op != x86asm.CALL {
			continue
		}
		for _, r := range relas(sec) {
			if r.Offset > uint64(in.off) && r.Offset < uint64(in.off+in.len) {
				return lineNumberCallees[strings.TrimSuffix(r.Sym.Name, ".constprop.0")]
			}
		}
		return false
	}
	return false
}

// sourceLine matches "file.c:123" as __FILE__ ":" __stringify(__LINE__)
// puts it into messages (fortify's field-spanning write warning, BUG
// strings, assertions).
var sourceLine = regexp.MustCompile(`(\.[chS]):[0-9]+`)

// sameString compares two string literals; strings that differ only in
// "file.c:LINE" references count as equal, with the difference noted for
// the no-change explanation.
func (d *differ) sameString(a, b string) bool {
	if a == b {
		return true
	}
	if sourceLine.ReplaceAllString(a, "$1:") == sourceLine.ReplaceAllString(b, "$1:") {
		d.nameState().lineHits++
		return true
	}
	return false
}

// noteLineOnly records that section b compared equal only because line
// numbers were ignored (hits is lineHits before the comparison).
func (d *differ) noteLineOnly(b *elfobj.Section, hits int) {
	ns := d.nameState()
	if ns.lineHits == hits {
		return
	}
	ns.lineMoved = true
	if s := d.patched.sec[b].bundled; s != nil && isFunc(s) && !slices.Contains(ns.lineOnly, s.Name) {
		ns.lineOnly = append(ns.lineOnly, s.Name)
	}
}

// noChangeError is the ErrNoChanges of an object, saying why when the two
// builds differ only in line numbers.
func (d *differ) noChangeError() error {
	switch {
	case d.names != nil && len(d.names.lineOnly) > 0:
		return fmt.Errorf("%s: %w (in %s)", d.name, ErrOnlyLineNumbers, strings.Join(d.names.lineOnly, ", "))
	case d.names != nil && d.names.lineMoved, d.bugLinesMoved():
		return fmt.Errorf("%s: %w", d.name, ErrOnlyLineNumbers)
	}
	return fmt.Errorf("%s: %w", d.name, ErrNoChanges)
}

// bugLineOffset is where an x86_64 bug_entry (relative pointers,
// DEBUG_BUGVERBOSE: bug_addr_disp, file_disp, line, flags; 12 bytes)
// keeps its line number.
const bugLineOffset, bugEntrySize = 8, 12

// bugLinesMoved reports __bug_table sections that differ only in the line
// fields of their entries: the WARN and BUG sites moved, nothing else.
func (d *differ) bugLinesMoved() bool {
	a, b := d.orig.f.Section("__bug_table"), d.patched.f.Section("__bug_table")
	if a == nil || b == nil || len(a.Data) != len(b.Data) || len(a.Data)%bugEntrySize != 0 || len(relas(a)) != len(relas(b)) {
		return false
	}
	for i, r := range relas(a) {
		if q := relas(b)[i]; r.Offset != q.Offset || r.Type != q.Type {
			return false
		}
	}
	moved := false
	for i := range a.Data {
		if a.Data[i] == b.Data[i] {
			continue
		}
		if off := i % bugEntrySize; off < bugLineOffset || off >= bugLineOffset+2 {
			return false
		}
		moved = true
	}
	return moved
}
