// SPDX-License-Identifier: Apache-2.0

package livepatch

// Reverse returns the patch that undoes p (patch -R).
func (p *Patch) Reverse() *Patch {
	r := &Patch{Source: p.Source, Subject: p.Subject, Strip: p.Strip}
	for i := len(p.Files) - 1; i >= 0; i-- {
		r.Files = append(r.Files, p.Files[i].reverse())
	}
	return r
}

func (f *FileDiff) reverse() *FileDiff {
	r := &FileDiff{
		Op:      f.Op,
		OldPath: f.NewPath, NewPath: f.OldPath,
		OldName: f.NewName, NewName: f.OldName,
		OldMode: f.NewMode, NewMode: f.OldMode,
		Line: f.Line,
	}
	switch f.Op {
	case OpCreate:
		r.Op = OpDelete
	case OpDelete:
		r.Op = OpCreate
	case OpCopy:
		// Undoing a copy deletes the copy and restores the source's text.
		r.Op = OpDelete
		r.OldPath, r.NewPath = f.NewPath, ""
	}
	for _, h := range f.Hunks {
		r.Hunks = append(r.Hunks, h.reverse())
	}
	if f.Op == OpCopy {
		// The copy holds the source's text plus the hunks: delete it whole.
		r.Hunks, r.deleteAny = nil, true
	}
	return r
}

func (h *Hunk) reverse() *Hunk {
	r := &Hunk{
		OldStart: h.NewStart, OldLines: h.NewLines,
		NewStart: h.OldStart, NewLines: h.OldLines,
		Section: h.Section, Line: h.Line,
		OldNoEOL: h.NewNoEOL, NewNoEOL: h.OldNoEOL,
		Lines: make([]Line, len(h.Lines)),
	}
	for i, l := range h.Lines {
		switch l.Kind {
		case '+':
			l.Kind = '-'
		case '-':
			l.Kind = '+'
		}
		r.Lines[i] = l
	}
	return r
}
