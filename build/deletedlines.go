// SPDX-License-Identifier: Apache-2.0

package build

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/livepatch"
)

// deletedLines maps each tree path the patches change to the lines of its
// original copy that they delete (replaced lines among them). A hunk that
// only deletes lines adds none, so without these the check would have
// nothing to look at for it.
func (r *runner) deletedLines() (map[string]map[int]bool, error) {
	out := map[string]map[int]bool{}
	for _, rel := range r.ov.changed {
		before, err := os.ReadFile(filepath.Join(r.patchedTree(), rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue // added by the patch
		}
		if err != nil {
			return nil, fmt.Errorf("deleted lines: %w", err)
		}
		after, err := os.ReadFile(r.ov.path(rel))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("deleted lines: %w", err)
		}
		lines := map[int]bool{}
		for _, n := range livepatch.DeletedLines(before, after) {
			lines[n] = true
		}
		if len(lines) > 0 {
			out[rel] = lines
		}
	}
	return out, nil
}

// deletedLineHolders finds, from the original object's line table, the
// functions whose running code comes from a line the patches delete, and
// returns each as the patched object's function that replaces it (its
// twin, or that of the function a .cold/.part child belongs to), to be
// judged like a function holding an added line: unchanged, or redirected.
// An original function whose name the patched object keeps but the differ
// gave no twin is returned under that name (a new function the running
// one would shadow). One that left the object altogether is skipped: its
// callers in the object changed with it and hold the deleted call.
func (r *runner) deletedLineHolders(u *unit, deleted map[string]map[int]bool) ([]lineHolder, error) {
	if len(deleted) == 0 || u.diff == nil {
		return nil, nil
	}
	of, err := u.origObject()
	if err != nil {
		return nil, err
	}
	pf, err := u.patchedObject()
	if err != nil {
		return nil, err
	}
	// twin maps original function names to the patched ones the differ
	// paired them with; patched the names the patched object defines.
	twin, patched := map[string]string{}, map[string]bool{}
	for _, s := range pf.Symbols {
		if s.Type != elf.STT_FUNC || s.Section == nil {
			continue
		}
		patched[s.Name] = true
		if st, ok := u.diff.Function(s.Name); ok && st.Original != "" {
			twin[st.Original] = s.Name
		}
	}
	replacement := func(orig string) (string, bool) {
		if p, ok := twin[orig]; ok {
			return p, true
		}
		if patched[orig] {
			return orig, true
		}
		// foo.cold.0 / foo.part.1 merged back into foo: foo carries it.
		if base, _, ok := strings.Cut(orig, "."); ok {
			if p, ok := twin[base]; ok {
				return p, true
			}
		}
		return "", false
	}
	held, err := r.linesHeldBy(of, deleted)
	if err != nil {
		return nil, fmt.Errorf("original object %s: checking that every deleted line is patched: %w", u.orig, err)
	}
	var out []lineHolder
	seen := map[lineHolder]bool{}
	for _, h := range held {
		p, ok := replacement(h.function)
		if !ok {
			continue
		}
		h = lineHolder{function: p, file: h.file, line: h.line, deleted: true}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out, nil
}
