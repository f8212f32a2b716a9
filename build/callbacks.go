// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/elfobj"
)

// callbackPrefix starts the sections kpatch's callback macros
// (KPATCH_PRE_PATCH_CALLBACK and friends) fill: 16-byte entries whose
// first word points at the callback function; the second, the object name,
// is left NULL by the macros and means the object the code belongs to.
const callbackPrefix = ".kpatch.callbacks."

// callbackEntrySize is sizeof(struct { fn; objname; }) on x86_64.
const callbackEntrySize = 16

// collectCallbacks finds the callbacks in patch object f, gives each a
// global alias the generated module can name, and returns them.
func collectCallbacks(f *elfobj.File, unit int) (klp.Callbacks, error) {
	var cbs klp.Callbacks
	for _, sec := range f.Sections {
		if sec == nil || !sec.IsRela() || sec.Target == nil || !strings.HasPrefix(sec.Target.Name, callbackPrefix) {
			continue
		}
		kind := strings.TrimPrefix(sec.Target.Name, callbackPrefix)
		for _, r := range sec.Relas {
			if r.Offset%callbackEntrySize != 0 {
				continue // the objname word
			}
			fn := callbackFunction(f, r)
			if fn == nil {
				return cbs, fmt.Errorf("%s callback entry at %#x does not point at a function", kind, r.Offset)
			}
			alias := fmt.Sprintf("klpkit_cb_%d_%s", unit, kind)
			if err := cbs.Set(kind, alias); err != nil {
				return cbs, err
			}
			if err := klp.AliasFunction(f, fn.Name, alias); err != nil {
				return cbs, err
			}
		}
	}
	return cbs, nil
}

// callbackFunction resolves a relocation to the function it points at,
// directly or through its section symbol plus addend.
func callbackFunction(f *elfobj.File, r *elfobj.Rela) *elfobj.Symbol {
	s := r.Sym
	if s == nil {
		return nil
	}
	if s.Type == elf.STT_FUNC && s.Section != nil && r.Addend == 0 {
		return s
	}
	if s.Type != elf.STT_SECTION || s.Section == nil {
		return nil
	}
	for _, c := range f.Symbols {
		if c.Type == elf.STT_FUNC && c.Section == s.Section && int64(c.Value) == int64(s.Value)+r.Addend {
			return c
		}
	}
	return nil
}
