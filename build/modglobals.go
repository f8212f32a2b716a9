// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"fmt"
	"strings"
)

// moduleGlobal is a global symbol that a patch object of this build
// defines: once linked, the patch module holds its only definition.
type moduleGlobal struct {
	obj    string // tree-relative object path, e.g. fs/proc/cmdline.o
	target string // "vmlinux" or the module the object belongs to
	bind   elf.SymBind
}

// moduleGlobals returns the global functions and objects that the patch
// objects of this build define, by name: new globals, and any other
// included symbol that stayed global. Changed functions are not among
// them: the differ makes them local, and references to them from other
// objects go to the running kernel's original (see ownDefinition).
//
// Two strong definitions of one name are refused here, naming both
// objects, rather than left to fail in kbuild's link with "multiple
// definition": the patch module is a single link unit, so it cannot hold
// both, even when the two objects belong to different kernel modules.
func (r *runner) moduleGlobals() (map[string]moduleGlobal, error) {
	if r.globals != nil {
		return r.globals, nil
	}
	globals := map[string]moduleGlobal{}
	for _, u := range r.objs {
		if u.diff == nil {
			continue
		}
		for _, s := range u.diff.Included {
			if s.Bind != elf.STB_GLOBAL && s.Bind != elf.STB_WEAK {
				continue
			}
			// Prefix padding symbols come and go with their function.
			if strings.HasPrefix(s.Name, "__pfx_") {
				continue
			}
			g := moduleGlobal{obj: u.obj, target: u.target, bind: s.Bind}
			prev, dup := globals[s.Name]
			switch {
			case !dup:
				globals[s.Name] = g
			case prev.bind == elf.STB_GLOBAL && g.bind == elf.STB_GLOBAL:
				return nil, &ObjectError{Object: u.obj, Stage: StageLink, Err: fmt.Errorf(
					"%w: global symbol %s is defined by both %s (%s) and %s (%s), and one livepatch module can hold only one definition of a name: make one of them static or rename it",
					ErrUnsupportedPatch, s.Name, prev.obj, prev.target, u.obj, u.target)}
			case prev.bind == elf.STB_WEAK && g.bind == elf.STB_GLOBAL:
				globals[s.Name] = g // the linker picks the strong one
			}
		}
	}
	r.globals = globals
	return globals, nil
}

// ownDefinition reports whether u's reference to the global name binds to
// the patch module's own definition (a normal relocation, resolved when
// the module is linked) instead of going through the target.
//
// It does when another patch object of this build defines name and u's
// target has no global of that name: the patched source can only mean
// the new symbol (kpatch's create-diff-object makes the same assumption
// for a global it cannot find in the target). A static of the same name
// elsewhere in the target does not count: a global reference never binds
// to it.
//
// When the target also has a global name, the reference would go to the
// target's copy, as kpatch resolves it, and the running kernel keeps
// calling that copy from everywhere else too: the patch object's new
// global replaces nothing (a function moved between files, a strong
// definition of a weak one). That is refused, naming both, rather than
// linked with a warning. A changed global function of another patched
// object is not among the globals: the differ makes it local, and a call
// to it goes to the original, which the livepatch core redirects task by
// task.
//
// A module target whose .ko is not under Tree.ModulesDir is refused too
// (ErrModuleNotFound): only its symbol table tells whether the module has
// a global of that name, and guessing wrong silently binds the reference
// to the other copy.
func (r *runner) ownDefinition(u *unit, name string) (bool, error) {
	globals, err := r.moduleGlobals()
	if err != nil {
		return false, err
	}
	g, ok := globals[name]
	if !ok {
		return false, nil
	}
	t, err := r.table(u.target)
	if err != nil {
		return false, err
	}
	if t == nil {
		return false, fmt.Errorf("%w: %s refers to %s, which %s defines in the patch module: whether module %s has a global %s of its own decides which one it means, and %s.ko (or %s.ko.debug) is not under the modules directory %q: set Tree.ModulesDir (kpatch-build --modules-dir) to the target's modules",
			ErrModuleNotFound, u.obj, name, g.obj, u.target, name, u.target, u.target, r.tree.ModulesDir)
	}
	if t.HasGlobal(name) {
		return false, fmt.Errorf("%w: %s refers to %s, which %s defines anew in the patch module, but %s already has a global %s: this reference, and every caller outside the patch, would keep using the running one, so the new definition would replace nothing; change %s where %s defines it",
			ErrUnsupportedPatch, u.obj, name, g.obj, u.target, name, name, u.target)
	}
	return true, nil
}

// shadowedNewGlobals returns why, for each new global function of u whose
// name the running kernel already has as a global where u's code links
// (u's target, or an export for a module), the module's new copy would
// not replace it: code outside the patch objects keeps calling the
// running one. The changed-line check refuses such a function even when
// redirected code calls it. A module target without its .ko gives a
// warning that the check was not made.
func (r *runner) shadowedNewGlobals(u *unit) (map[string]string, error) {
	out := map[string]string{}
	if u.diff == nil {
		return out, nil
	}
	t, err := r.table(u.target)
	if err != nil {
		return nil, err
	}
	for _, f := range u.diff.New {
		if f.Bind != elf.STB_GLOBAL && f.Bind != elf.STB_WEAK {
			continue
		}
		where := ""
		switch owner, exported := r.symvers[f.Name]; {
		case t != nil && t.HasGlobal(f.Name):
			where = u.target
		case exported && u.target != "vmlinux":
			where = owner + ", which exports it"
		case t == nil:
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: new global %s not checked against module %s's own globals: %s.ko not found under %q", u.obj, f.Name, u.target, u.target, r.tree.ModulesDir))
			continue
		default:
			continue
		}
		out[f.Name] = fmt.Sprintf("the running kernel already has a global %s (in %s): every caller outside the patch keeps using that one, so this new definition would replace nothing (a function moved between files, or a strong definition of a weak one); change %s where the kernel defines it", f.Name, where, f.Name)
	}
	return out, nil
}
