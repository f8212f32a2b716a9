// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// secRef names a section of one patch object.
type secRef struct {
	unit int
	sec  *elfobj.Section
}

// reachedFunctions walks the patch objects from the sections defining
// roots (the aliases of redirected functions and callbacks) along their
// relocations, across objects through the globals they define, and
// returns per object the functions defined in the sections reached: the
// code the loaded module can run.
func reachedFunctions(units []*unit, roots []string) ([]map[string]bool, error) {
	files := make([]*elfobj.File, len(units))
	globals := map[string]secRef{}
	for i, u := range units {
		f, err := u.patchObject()
		if err != nil {
			return nil, err
		}
		files[i] = f
		for _, s := range f.Symbols {
			if s.Section != nil && s.Bind != elf.STB_LOCAL {
				if _, dup := globals[s.Name]; !dup {
					globals[s.Name] = secRef{i, s.Section}
				}
			}
		}
	}
	seen := map[secRef]bool{}
	var queue []secRef
	visit := func(ref secRef) {
		if ref.sec != nil && !seen[ref] {
			seen[ref] = true
			queue = append(queue, ref)
		}
	}
	for _, name := range roots {
		if ref, ok := globals[name]; ok {
			visit(ref)
		}
	}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		for _, rs := range ref.sec.RelaSections() {
			for _, r := range rs.Relas {
				switch {
				case r.Sym.Section != nil:
					visit(secRef{ref.unit, r.Sym.Section})
				case r.Sym.IsUndefined():
					visit(globals[r.Sym.Name])
				}
			}
		}
	}
	out := make([]map[string]bool, len(files))
	for i, f := range files {
		out[i] = map[string]bool{}
		for _, s := range f.Symbols {
			if s.Type == elf.STT_FUNC && seen[secRef{i, s.Section}] {
				out[i][s.Name] = true
			}
		}
	}
	return out, nil
}
