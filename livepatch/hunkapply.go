package livepatch

import (
	"strings"
)

// HunkResult says where one hunk applied.
type HunkResult struct {
	Hunk   int // 1-based within its file diff
	At     int // 1-based line in the file before the hunk where its old side starts
	Offset int // At minus the line the hunk header named
	NewAt  int // 1-based line in the patched file where its new side starts
}

// lineMatcher compares file lines with hunk lines; adaptCR lets a patch
// with LF lines apply to a CRLF file.
type lineMatcher struct{ adaptCR bool }

func (m lineMatcher) eq(file, patch string) bool {
	if file == patch {
		return true
	}
	return m.adaptCR && strings.TrimSuffix(file, "\r") == patch
}

func newLineMatcher(lines []string, hunks []*Hunk) lineMatcher {
	if len(lines) == 0 || !strings.HasSuffix(lines[0], "\r") {
		return lineMatcher{}
	}
	for _, h := range hunks {
		for _, l := range h.Lines {
			if strings.HasSuffix(l.Text, "\r") {
				return lineMatcher{}
			}
		}
	}
	return lineMatcher{adaptCR: true}
}

// applyHunks applies hunks in order with exact context (patch --fuzz=0),
// searching outward from the expected line for moved context.
func applyHunks(source, path string, f *memFile, hunks []*Hunk) ([]HunkResult, error) {
	m := newLineMatcher(f.lines, hunks)
	out := make([]string, 0, len(f.lines)+8)
	results := make([]HunkResult, 0, len(hunks))
	pos, lastOffset := 0, 0
	noEOL := f.noEOL
	for i, h := range hunks {
		old, repl := h.OldSide(), h.NewSide()
		declared := h.OldStart - 1
		if h.OldLines == 0 {
			declared = h.OldStart
		}
		anchor := h.anchor()
		at, ok := findHunk(m, f.lines, old, pos, declared+lastOffset, h.OldNoEOL || anchor == anchorEnd)
		if ok && anchor == anchorStart && at != 0 {
			ok = false
		}
		if !ok {
			return nil, &HunkError{Source: source, File: path, Hunk: i + 1, Line: h.Line, At: max(declared+lastOffset, 0) + 1, Expected: old,
				Reason: "context not found"}
		}
		out = append(out, f.lines[pos:at]...)
		newAt := len(out) + 1
		// Context lines keep the file's own text (its line ending may differ
		// from the patch's); added lines take the patch's.
		k := at
		for _, l := range h.Lines {
			switch l.Kind {
			case ' ':
				out = append(out, f.lines[k])
				k++
			case '-':
				k++
			case '+':
				r := l.Text
				if m.adaptCR {
					r += "\r"
				}
				out = append(out, r)
			}
		}
		pos = at + len(old)
		if pos == len(f.lines) {
			switch {
			case len(repl) > 0:
				// A patch that does not mention the missing newline keeps it missing.
				noEOL = h.NewNoEOL || (f.noEOL && !h.OldNoEOL && len(old) > 0)
			case len(old) > 0:
				noEOL = false // the new last line was followed by the old ones
			}
		}
		lastOffset = at - declared
		results = append(results, HunkResult{Hunk: i + 1, At: at + 1, Offset: at - declared, NewAt: newAt})
	}
	out = append(out, f.lines[pos:]...)
	if len(out) == 0 {
		noEOL = false
	}
	f.lines, f.noEOL = out, noEOL
	return results, nil
}

// findHunk returns the index in lines where old matches, at or after min,
// nearest to want.
func findHunk(m lineMatcher, lines, old []string, from, want int, mustEndAtEOF bool) (int, bool) {
	last := len(lines) - len(old)
	if last < from {
		return 0, false
	}
	want = min(max(from, want), last)
	for d := 0; want-d >= from || want+d <= last; d++ {
		if at := want + d; at <= last && matchAt(m, lines, old, at, mustEndAtEOF) {
			return at, true
		}
		if at := want - d; d > 0 && at >= from && matchAt(m, lines, old, at, mustEndAtEOF) {
			return at, true
		}
	}
	return 0, false
}

func matchAt(m lineMatcher, lines, old []string, at int, mustEndAtEOF bool) bool {
	if mustEndAtEOF && at+len(old) != len(lines) {
		return false
	}
	for k, o := range old {
		if !m.eq(lines[at+k], o) {
			return false
		}
	}
	return true
}

type hunkAnchor int

const (
	anchorNone hunkAnchor = iota
	anchorStart
	anchorEnd
)

// anchor reports where a hunk with uneven context must apply, as GNU
// patch does without fuzz: diff only cuts context short at a file's edge,
// so less trailing context means the end of the file, and less leading
// context in a hunk that starts at line 1 means its start.
func (h *Hunk) anchor() hunkAnchor {
	prefix, suffix := 0, 0
	for _, l := range h.Lines {
		if l.Kind != ' ' {
			break
		}
		prefix++
	}
	for i := len(h.Lines) - 1; i >= 0 && h.Lines[i].Kind == ' '; i-- {
		suffix++
	}
	if prefix == len(h.Lines) {
		return anchorNone // context only
	}
	switch {
	case suffix < prefix:
		return anchorEnd
	case prefix < suffix && h.OldStart <= 1:
		return anchorStart
	}
	return anchorNone
}
