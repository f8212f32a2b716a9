// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"io/fs"
)

// Op is what a file diff does to its file.
type Op int

// File operations a patch can carry.
const (
	OpModify Op = iota
	OpCreate
	OpDelete
	OpRename
	OpCopy
)

func (o Op) String() string {
	switch o {
	case OpModify:
		return "modify"
	case OpCreate:
		return "create"
	case OpDelete:
		return "delete"
	case OpRename:
		return "rename"
	case OpCopy:
		return "copy"
	}
	return "unknown"
}

// Patch is one patch: a plain diff file, or one mail of a git format-patch
// series. Several patches are applied in order.
type Patch struct {
	// Source names where the patch came from (its file path, or a label).
	Source string
	// Subject is the mail subject of a format-patch mail, without "[PATCH n/m]".
	Subject string
	// Strip is the -p level used to turn the names in the diff into tree paths.
	Strip int
	// Files are the file diffs in patch order.
	Files []*FileDiff
}

// FileDiff is the change to one file.
type FileDiff struct {
	Op Op
	// OldPath and NewPath are tree-relative, slash-separated and already
	// stripped. OldPath is empty for OpCreate, NewPath empty for OpDelete.
	OldPath, NewPath string
	// OldName and NewName are the names exactly as the diff spells them.
	OldName, NewName string
	// OldMode and NewMode come from git extended headers; 0 when unknown.
	OldMode, NewMode fs.FileMode
	// Line is the line of the patch file where this file's diff starts.
	Line  int
	Hunks []*Hunk

	deleteAny bool // delete whatever the file holds (undoing a copy)
}

// Path is the path the file has after the patch (the old path for deletes).
func (f *FileDiff) Path() string {
	if f.NewPath != "" {
		return f.NewPath
	}
	return f.OldPath
}

// Hunk is one @@ block.
type Hunk struct {
	OldStart, OldLines int
	NewStart, NewLines int
	// Section is the text after the second @@ (diff -p's function line).
	Section string
	// Line is the line of the "@@" header in the patch file.
	Line int
	// Lines is the hunk body.
	Lines []Line
	// OldNoEOL and NewNoEOL record "\ No newline at end of file" for the
	// last old-side and new-side line.
	OldNoEOL, NewNoEOL bool
}

// Line is one hunk body line. Text has no line terminator, but keeps a
// trailing '\r' of CRLF files.
type Line struct {
	Kind byte // ' ', '-' or '+'
	Text string
}

// OldSide returns the lines the hunk expects in the original file.
func (h *Hunk) OldSide() []string { return h.side('-') }

// NewSide returns the lines the hunk leaves in the patched file.
func (h *Hunk) NewSide() []string { return h.side('+') }

func (h *Hunk) side(changed byte) []string {
	out := make([]string, 0, len(h.Lines))
	for _, l := range h.Lines {
		if l.Kind == ' ' || l.Kind == changed {
			out = append(out, l.Text)
		}
	}
	return out
}
