// SPDX-License-Identifier: Apache-2.0

package livepatch

import "fmt"

// Placement says where a hunk landed when that was not exactly where its
// header said, or not with all its context.
type Placement struct {
	Source string `json:"source"` // patch file
	File   string `json:"file"`   // tree path
	Hunk   int    `json:"hunk"`   // 1-based within its file diff
	Line   int    `json:"line"`   // 1-based line of the file, before the hunk, where it applied
	// NewLine is where the hunk's new side starts in the patched file, the
	// line GNU patch reports ("Hunk #2 succeeded at NewLine").
	NewLine int `json:"new_line"`
	Offset  int `json:"offset"` // Line minus the line the header named (after earlier hunks' offsets)
	Fuzz    int `json:"fuzz"`   // context lines ignored at each end; 0: all matched
}

// String reads like GNU patch's report of the same hunk.
func (p Placement) String() string {
	s := fmt.Sprintf("%s: %s: hunk #%d applied at line %d", p.Source, p.File, p.Hunk, p.Line)
	if p.NewLine != p.Line {
		s += fmt.Sprintf(" (%d once patched)", p.NewLine)
	}
	if p.Fuzz > 0 {
		s += fmt.Sprintf(" with fuzz %d", p.Fuzz)
	}
	if p.Offset != 0 {
		unit := "lines"
		if p.Offset == 1 || p.Offset == -1 {
			unit = "line"
		}
		s += fmt.Sprintf(", offset %d %s", p.Offset, unit)
	}
	return s
}

// Inexact lists, in apply order, every hunk that applied with an offset or
// with fuzz.
func (r *ApplyResult) Inexact() []Placement {
	var out []Placement
	for _, f := range r.Files {
		for _, h := range f.Hunks {
			if h.Offset != 0 || h.Fuzz != 0 {
				out = append(out, Placement{Source: f.Source, File: f.Path, Hunk: h.Hunk, Line: h.At, NewLine: h.NewAt, Offset: h.Offset, Fuzz: h.Fuzz})
			}
		}
	}
	return out
}

// Fuzzed lists the hunks that needed fuzz, the ones worth a reader's look.
func (r *ApplyResult) Fuzzed() []Placement {
	var out []Placement
	for _, p := range r.Inexact() {
		if p.Fuzz > 0 {
			out = append(out, p)
		}
	}
	return out
}
