// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/internal/dwarfline"
	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/livepatch"
)

// ErrChangeNotPatched means code compiled from a line the patches add
// would not run once the module is loaded: the function holding it is
// neither redirected nor reached from redirected code. A module that
// loads and leaves the old code running is worse than no module, so Run
// refuses it (see NotPatchedError).
var ErrChangeNotPatched = errors.New("changed code would not be patched")

// NotPatchedError names a function whose compiled code carries a changed
// line the module would not run, and why.
type NotPatchedError struct {
	Object   string `json:"object"`   // tree-relative object path
	Function string `json:"function"` // the function in the patched object holding the code
	File     string `json:"file"`     // tree-relative source file of the changed line
	Line     int    `json:"line"`     // the changed line, in the patched file
	Reason   string `json:"reason"`
	// Deleted: Line is a line the patches delete, numbered in the
	// original file, whose code the running Function holds.
	Deleted bool `json:"deleted,omitempty"`
}

func (e *NotPatchedError) Error() string {
	if e.Deleted {
		return fmt.Sprintf("%s: %s (code of deleted line %s:%d of the original): %s", e.Object, e.Function, e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s (code of %s:%d): %s", e.Object, e.Function, e.File, e.Line, e.Reason)
}

// Is makes errors.Is(err, ErrChangeNotPatched) true.
func (e *NotPatchedError) Is(target error) bool { return target == ErrChangeNotPatched }

// lineHolder is a function whose compiled code carries a changed line.
type lineHolder struct {
	function, file string
	line           int
	deleted        bool // line is deleted, numbered in the original file
}

// checkChangedLinesPatched is the build's last word before linking, made
// independently of how the differ correlated the objects: every function
// of a patched object whose code (its own, or inlined) comes from a line
// the patches add is either unchanged or redirected by the module (itself,
// or the parent of a .cold/.part child), or is new code; no "new" function
// has a namesake in the original object, or a global one in the running
// kernel, that would keep running; each added line with code runs
// somewhere: in a redirected function, or in new code reached from
// redirected code or callbacks; and every function whose running code
// comes from a line the patches delete is unchanged or redirected (a hunk
// that only deletes adds no line to look at). It returns how many
// functions it checked.
func (r *runner) checkChangedLinesPatched(m *klp.Module) (int, error) {
	added, err := r.addedLines()
	if err != nil {
		return 0, err
	}
	deleted, err := r.deletedLines()
	if err != nil {
		return 0, err
	}
	var roots []string
	for _, o := range m.Objects {
		for _, f := range o.Funcs {
			roots = append(roots, f.NewSymbol)
		}
		cb := o.Callbacks
		for _, s := range []string{cb.PrePatch, cb.PostPatch, cb.PreUnpatch, cb.PostUnpatch} {
			if s != "" {
				roots = append(roots, s)
			}
		}
	}
	reached, err := reachedFunctions(r.objs, roots)
	if err != nil {
		return 0, err
	}
	var errs []error
	checked := 0
	for i, u := range r.objs {
		holders, origFuncs, err := r.changedLineHolders(u, added)
		if err != nil {
			return 0, &ObjectError{Object: u.obj, Stage: StageLink, Err: err}
		}
		gone, err := r.deletedLineHolders(u, deleted)
		if err != nil {
			return 0, &ObjectError{Object: u.obj, Stage: StageLink, Err: err}
		}
		holders = append(holders, gone...)
		shadowed, err := r.shadowedNewGlobals(u)
		if err != nil {
			return 0, &ObjectError{Object: u.obj, Stage: StageLink, Err: err}
		}
		errs = append(errs, judgeLines(u.obj, holders, func(fn string) (verdict, string) {
			if reason, ok := shadowed[fn]; ok {
				return verdictWrong, reason
			}
			return lineVerdict(u.diff.Function, fn, origFuncs, u.redirects, reached[i])
		})...)
		functions := map[string]bool{}
		for _, h := range holders {
			functions[h.function] = true
		}
		checked += len(functions)
	}
	return checked, errors.Join(errs...)
}

// judgeLines returns an error for each function of object obj whose
// changed code would not run: one judged wrong, and new code that runs
// nowhere (or only partly elsewhere). GCC may inline a new global into
// its callers and keep an out-of-line copy nothing calls (kpatch's
// special-static): that copy is dead but harmless, since its lines run in
// the callers (all but its braces, which exist only out of line).
func judgeLines(obj string, holders []lineHolder, judge func(fn string) (verdict, string)) []error {
	type lineKey struct {
		file string
		line int
	}
	var errs []error
	reported := map[string]bool{}
	report := func(h lineHolder, reason string) {
		if !reported[h.function] {
			reported[h.function] = true
			errs = append(errs, &NotPatchedError{Object: obj, Function: h.function, File: h.file, Line: h.line, Reason: reason, Deleted: h.deleted})
		}
	}
	live := map[lineKey]bool{}
	var dead []lineHolder
	for _, h := range holders {
		switch v, reason := judge(h.function); v {
		case verdictRuns:
			if !h.deleted { // numbered in the original: says nothing of new code
				live[lineKey{h.file, h.line}] = true
			}
		case verdictDead:
			dead = append(dead, h)
		case verdictWrong:
			report(h, reason)
		}
	}
	// Each dead function is excused only if every line it holds runs
	// elsewhere, but for its first and last (the braces: entry and return
	// exist only out of line), and at least one does.
	first, last := map[string]int{}, map[string]int{}
	for _, h := range dead {
		if f, ok := first[h.function]; !ok || h.line < f {
			first[h.function] = h.line
		}
		last[h.function] = max(last[h.function], h.line)
	}
	runs, missing := map[string]bool{}, map[string]bool{}
	for _, h := range dead {
		switch {
		case live[lineKey{h.file, h.line}]:
			runs[h.function] = true
		case h.line != first[h.function] && h.line != last[h.function]:
			missing[h.function] = true
		}
	}
	for _, h := range dead {
		if !runs[h.function] || missing[h.function] {
			report(h, "new code that nothing the module redirects (or its callbacks) calls or references: it would never run")
		}
	}
	return errs
}

// verdict is what lineVerdict finds of a function holding changed code.
type verdict int

const (
	verdictRuns  verdict = iota // unchanged, or the module runs the new code
	verdictDead                 // new code the module never reaches
	verdictWrong                // the old code would keep running
)

// lineVerdict judges a function fn holding code of a changed line, with
// why when the old code would keep running. origFuncs are the functions
// the original object defines; redirected the original names the module
// redirects; reached the patch object's functions reached from
// redirected code or callbacks.
func lineVerdict(state func(string) (objdiff.FunctionState, bool), fn string, origFuncs, redirected, reached map[string]bool) (verdict, string) {
	st, ok := state(fn)
	if !ok {
		return verdictWrong, "the differ gave no verdict on this function"
	}
	switch st.Status {
	case "SAME":
		return verdictRuns, "" // its code compiles as before: nothing to patch
	case "CHANGED":
		for cur, s := fn, st; ; {
			if s.Original != "" && redirected[s.Original] {
				return verdictRuns, ""
			}
			if s.Parent == "" {
				break
			}
			cur = s.Parent
			if s, ok = state(cur); !ok {
				break
			}
		}
		return verdictWrong, "its code changed but the module does not redirect it (nor a parent it belongs to)"
	case "NEW":
		if origFuncs[fn] {
			return verdictWrong, "the original object defines " + fn + " too, but the module would add it as a new function and leave the running one in place"
		}
		if !reached[fn] {
			return verdictDead, ""
		}
		return verdictRuns, ""
	}
	return verdictWrong, "unknown differ verdict " + st.Status
}

// addedLines maps each tree path the patches change to the lines of its
// patched copy that they add.
func (r *runner) addedLines() (map[string]map[int]bool, error) {
	out := map[string]map[int]bool{}
	for _, rel := range r.ov.changed {
		after, err := os.ReadFile(r.ov.path(rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by the patch
		}
		if err != nil {
			return nil, fmt.Errorf("changed lines: %w", err)
		}
		before, err := os.ReadFile(filepath.Join(r.patchedTree(), rel))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("changed lines: %w", err)
		}
		lines := map[int]bool{}
		for _, n := range livepatch.AddedLines(before, after) {
			lines[n] = true
		}
		out[rel] = lines
	}
	return out, nil
}

// changedLineHolders finds, from the patched object's line table, the
// functions whose code comes from an added line, with the functions the
// original object defines.
func (r *runner) changedLineHolders(u *unit, added map[string]map[int]bool) ([]lineHolder, map[string]bool, error) {
	pf, err := u.patchedObject()
	if err != nil {
		return nil, nil, err
	}
	of, err := u.origObject()
	if err != nil {
		return nil, nil, err
	}
	origFuncs := map[string]bool{}
	for _, s := range of.Symbols {
		if s.Type == elf.STT_FUNC && s.Section != nil {
			origFuncs[s.Name] = true
		}
	}
	held, err := r.linesHeldBy(pf, added)
	if err != nil {
		return nil, nil, fmt.Errorf("patched object %s: checking that every changed line is patched: %w", u.patched, err)
	}
	return held, origFuncs, nil
}

// linesHeldBy finds, from object f's line table, the functions whose
// patchable code comes from one of lines (tree-relative file -> line
// numbers), each function, file and line once, in line-table order.
func (r *runner) linesHeldBy(f *elfobj.File, lines map[string]map[int]bool) ([]lineHolder, error) {
	rows, err := dwarfline.Read(f)
	if err != nil {
		return nil, err
	}
	bySection := map[int]*elfobj.Section{}
	for _, s := range f.Sections {
		bySection[s.Index] = s
	}
	roots := r.objectRoots()
	funcs := newFuncIndex(f)
	var out []lineHolder
	seen := map[lineHolder]bool{}
	for _, row := range rows {
		rel, _ := treeRelative(roots, row.File)
		if !lines[rel][row.Line] {
			continue
		}
		sec := bySection[row.Section]
		if row.Section == 0 || sec == nil || !patchableText(sec) {
			continue
		}
		fn := funcs.at(sec, row.Offset)
		if fn == nil {
			continue
		}
		h := lineHolder{function: fn.Name, file: rel, line: row.Line}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out, nil
}

// patchableText reports code a livepatch can replace; __init/__exit code
// has run (or will run) from the original, and the differ has its rules
// for it.
func patchableText(s *elfobj.Section) bool {
	if s.Flags&elf.SHF_EXECINSTR == 0 {
		return false
	}
	for _, p := range []string{".init", ".exit", ".meminit", ".head.text"} {
		if strings.HasPrefix(s.Name, p) {
			return false
		}
	}
	return true
}

// treeRoots returns the tree directory as given and with links resolved:
// the compiler records its working directory with links resolved.
func treeRoots(dir string) []string {
	roots := []string{filepath.Clean(dir)}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != roots[0] {
		roots = append(roots, real)
	}
	return roots
}

// treeRelative turns a file name from debug information into a tree
// path; ok is false for a file outside the tree. roots are the tree's
// directories as the compiler spelt them (treeRoots, debugRoots), cut
// first because a prefix map may leave a relative object directory in
// front of every name (Debian's debian/build/build_amd64_none_amd64/). A
// relative name under no root is already the tree's: kbuild compiles
// from the tree, and a tree mapped out of the debug information
// (-fdebug-prefix-map=<tree>=.) leaves names relative to it.
func treeRelative(roots []string, name string) (string, bool) {
	name = path.Clean(filepath.ToSlash(name))
	for _, r := range roots {
		if rel, ok := strings.CutPrefix(name, path.Clean(filepath.ToSlash(r))+"/"); ok {
			return rel, true
		}
	}
	if path.IsAbs(name) || name == "." || name == ".." || strings.HasPrefix(name, "../") {
		return "", false
	}
	return name, true
}
