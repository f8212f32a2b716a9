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
// When the target also has a global name, the reference goes to the
// target's copy, as kpatch resolves it. That is what a call to a changed
// global function of another patched object needs: the patched copy is
// local to the module, and the call goes to the original, which the
// livepatch core redirects to the new code task by task, so callers
// follow the consistency model like every other caller in the kernel. A
// patch object that defines a second global of a name the target already
// has (a function moved between files) gets a warning, since callers
// outside that object keep the running kernel's copy.
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
	if t != nil && t.HasGlobal(name) {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf(
			"%s: %s refers to %s's own global %s, not to the one %s defines in the patch module: %s already has a global of that name",
			u.obj, name, u.target, name, g.obj, u.target))
		return false, nil
	}
	return true, nil
}
