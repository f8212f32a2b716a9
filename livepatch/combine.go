// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"path"
	"strings"
)

// noEOLMark makes a last line without '\n' differ from the same text with
// one, so the diff shows the change; it never occurs in text files.
const noEOLMark = "\x00no-eol"

// Combine applies patches in order to the pristine files under root (in
// memory; the tree is not changed) and returns one cumulative patch from
// the pristine to the final state: the replace model, where one module
// carries every fix. Renames come out as a delete plus a create.
func Combine(ctx context.Context, root string, patches []*Patch) (*Patch, error) {
	t, _, err := stage(ctx, root, patches, &ApplyOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range patches {
		names = append(names, path.Base(p.Source))
	}
	out := &Patch{Source: "combined(" + strings.Join(names, ",") + ")", Strip: 1}
	for _, rel := range t.changed() {
		out.Files = append(out.Files, diffFile(rel, t.pristine[rel], t.files[rel])...)
	}
	if len(out.Files) == 0 {
		return nil, ErrNoChanges
	}
	return out, nil
}

// diffFile describes the change from before to after as file diffs.
func diffFile(rel string, before, after *memFile) []*FileDiff {
	f := &FileDiff{Op: OpModify, OldPath: rel, NewPath: rel}
	switch {
	case !before.exists:
		f.Op, f.OldPath, f.NewMode = OpCreate, "", after.mode
	case !after.exists:
		f.Op, f.NewPath, f.OldMode = OpDelete, "", before.mode
	case before.mode != after.mode:
		f.OldMode, f.NewMode = before.mode, after.mode
	}
	a, b := diffKeys(before), diffKeys(after)
	f.Hunks = unifiedHunks(a, b, diffLines(a, b), 3)
	for _, h := range f.Hunks {
		h.Section = sectionBefore(before.lines, h.OldStart-1)
		for i := range h.Lines {
			if t, ok := strings.CutSuffix(h.Lines[i].Text, noEOLMark); ok {
				h.Lines[i].Text = t
				if h.Lines[i].Kind != '+' {
					h.OldNoEOL = true
				}
				if h.Lines[i].Kind != '-' {
					h.NewNoEOL = true
				}
			}
		}
	}
	return []*FileDiff{f}
}

func diffKeys(m *memFile) []string {
	if !m.exists || len(m.lines) == 0 {
		return nil
	}
	if !m.noEOL {
		return m.lines
	}
	keys := append([]string(nil), m.lines...)
	keys[len(keys)-1] += noEOLMark
	return keys
}

// sectionBefore returns the last line before index end that starts with a
// letter, '_' or '$': the function line diff -p and git print after "@@".
func sectionBefore(lines []string, end int) string {
	for i := min(end, len(lines)) - 1; i >= 0; i-- {
		if l := lines[i]; l != "" && (isIdentStart(l[0]) || l[0] == '$') {
			l = strings.TrimRight(l, " \t\r")
			if len(l) > 80 {
				l = l[:80]
			}
			return l
		}
	}
	return ""
}
