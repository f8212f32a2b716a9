// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"strings"
)

// HunkResult says where one hunk applied.
type HunkResult struct {
	Hunk   int `json:"hunk"`   // 1-based within its file diff
	At     int `json:"at"`     // 1-based line in the file before the hunk where its old side starts
	Offset int `json:"offset"` // At minus the line the hunk header named
	NewAt  int `json:"new_at"` // 1-based line in the patched file where its new side starts
	// Fuzz is how many context lines at each end of the hunk were ignored
	// to place it (ApplyOptions.Fuzz); 0 when all its context matched.
	Fuzz int `json:"fuzz"`
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

// applyHunks applies hunks in order, searching outward from the expected
// line for moved context. Like GNU patch it first tries every position
// with full context, then, up to maxFuzz, ignores 1, 2, ... context lines
// at each end of the hunk (never more than the hunk has).
func applyHunks(source, path string, f *memFile, hunks []*Hunk, maxFuzz int) ([]HunkResult, error) {
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
		want := declared + lastOffset
		at, fuzz, ok := locateHunk(m, f.lines, h, old, pos, want, 0, min(maxFuzz, h.maxFuzz()))
		if !ok {
			he := &HunkError{Source: source, File: path, Hunk: i + 1, Line: h.Line, At: max(want, 0) + 1, Expected: old,
				Reason: "context not found", Fuzz: max(maxFuzz, 0), MaxFuzz: h.maxFuzz()}
			// Say whether, and where, more fuzz would place it, so the
			// caller can decide to opt in knowingly.
			if a, fz, ok := locateHunk(m, f.lines, h, old, pos, want, max(maxFuzz, 0)+1, h.maxFuzz()); ok {
				he.FitsFuzz, he.FitsAt = fz, a+1
			}
			return nil, he
		}
		out = append(out, f.lines[pos:at]...)
		newAt := len(out) + 1
		// Context lines keep the file's own text (its line ending may differ
		// from the patch's, and fuzz may have ignored it); added lines take
		// the patch's.
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
		results = append(results, HunkResult{Hunk: i + 1, At: at + 1, Offset: at - declared, NewAt: newAt, Fuzz: fuzz})
	}
	out = append(out, f.lines[pos:]...)
	if len(out) == 0 {
		noEOL = false
	}
	f.lines, f.noEOL = out, noEOL
	return results, nil
}

// locateHunk tries fuzz levels lo..hi in turn and returns the first
// position found and the fuzz it took.
func locateHunk(m lineMatcher, lines []string, h *Hunk, old []string, from, want, lo, hi int) (int, int, bool) {
	for fz := lo; fz <= hi; fz++ {
		if at, ok := findHunk(m, lines, old, from, want, h.placement(fz)); ok {
			return at, fz, true
		}
	}
	return 0, 0, false
}

// placement says which of a hunk's old lines must match at a given fuzz
// and whether the hunk is tied to an end of the file.
type placement struct {
	skipHead, skipTail int // context lines ignored at each end
	atStart, atEnd     bool
}

// placement follows GNU patch: the fuzz is taken from the longer context;
// the shorter side, which diff only cuts short at a file's edge, keeps the
// hunk anchored to that edge until the fuzz covers the difference.
func (h *Hunk) placement(fuzz int) placement {
	head, tail := h.contextSizes()
	if head == len(h.Lines) {
		return placement{} // context only: maxFuzz keeps it exact
	}
	ctx := max(head, tail)
	p := placement{skipHead: fuzz + head - ctx, skipTail: fuzz + tail - ctx}
	if p.skipHead < 0 {
		p.atStart = h.OldStart <= 1
		p.skipHead = 0
	}
	if p.skipTail < 0 {
		p.atEnd = true
		p.skipTail = 0
	}
	p.atEnd = p.atEnd || h.OldNoEOL
	return p
}

// contextSizes counts the context lines before the first and after the
// last change.
func (h *Hunk) contextSizes() (head, tail int) {
	for _, l := range h.Lines {
		if l.Kind != ' ' {
			break
		}
		head++
	}
	for i := len(h.Lines) - 1; i >= 0 && h.Lines[i].Kind == ' '; i-- {
		tail++
	}
	return head, tail
}

// maxFuzz is the most fuzz that means anything for h: its longer context.
// More would let changed lines go unchecked.
func (h *Hunk) maxFuzz() int {
	head, tail := h.contextSizes()
	if head == len(h.Lines) {
		return 0 // context only: nothing changes, nothing to loosen
	}
	return max(head, tail)
}

// findHunk returns the index in lines, at or after from, nearest to want
// (later first on a tie, as GNU patch), where old matches under p.
func findHunk(m lineMatcher, lines, old []string, from, want int, p placement) (int, bool) {
	last := len(lines) - len(old)
	if last < from {
		return 0, false
	}
	switch {
	case p.atStart && p.atEnd:
		return 0, from == 0 && last == 0 && matchAt(m, lines, old, 0, p)
	case p.atStart:
		return 0, from == 0 && matchAt(m, lines, old, 0, p)
	case p.atEnd:
		return last, matchAt(m, lines, old, last, p)
	}
	want = min(max(from, want), last)
	for d := 0; want-d >= from || want+d <= last; d++ {
		if at := want + d; at <= last && matchAt(m, lines, old, at, p) {
			return at, true
		}
		if at := want - d; d > 0 && at >= from && matchAt(m, lines, old, at, p) {
			return at, true
		}
	}
	return 0, false
}

func matchAt(m lineMatcher, lines, old []string, at int, p placement) bool {
	for k := p.skipHead; k < len(old)-p.skipTail; k++ {
		if !m.eq(lines[at+k], old[k]) {
			return false
		}
	}
	return true
}
