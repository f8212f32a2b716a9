// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
)

// Format renders the patch as a git-style unified diff (a/ and b/
// prefixes), which Parse, GNU patch and git apply all read.
func (p *Patch) Format() []byte {
	var b strings.Builder
	for _, f := range p.Files {
		f.format(&b)
	}
	return []byte(b.String())
}

func (f *FileDiff) format(b *strings.Builder) {
	oldName, newName := "a/"+f.OldPath, "b/"+f.NewPath
	switch f.Op {
	case OpCreate:
		oldName = "a/" + f.NewPath
	case OpDelete:
		newName = "b/" + f.OldPath
	}
	fmt.Fprintf(b, "diff --git %s %s\n", quoteName(oldName), quoteName(newName))
	// The header lines come in git's order, which go-diff expects for
	// diffs without hunks.
	switch f.Op {
	case OpCreate:
		fmt.Fprintf(b, "new file mode %s\nindex 0000000..%s\n", gitMode(modeOr(f.NewMode, 0o644)), f.blobID('+'))
		oldName = "/dev/null"
	case OpDelete:
		fmt.Fprintf(b, "deleted file mode %s\nindex %s..0000000\n", gitMode(modeOr(f.OldMode, 0o644)), f.blobID('-'))
		newName = "/dev/null"
	case OpRename, OpCopy:
		if f.OldMode != 0 && f.NewMode != 0 && f.OldMode != f.NewMode {
			fmt.Fprintf(b, "old mode %s\nnew mode %s\n", gitMode(f.OldMode), gitMode(f.NewMode))
		}
		verb := "rename"
		if f.Op == OpCopy {
			verb = "copy"
		}
		similarity := 100
		if len(f.Hunks) > 0 {
			similarity = 90
		}
		fmt.Fprintf(b, "similarity index %d%%\n%s from %s\n%s to %s\n", similarity, verb, quoteName(f.OldPath), verb, quoteName(f.NewPath))
	default:
		if f.OldMode != 0 && f.NewMode != 0 && f.OldMode != f.NewMode {
			fmt.Fprintf(b, "old mode %s\nnew mode %s\n", gitMode(f.OldMode), gitMode(f.NewMode))
		}
	}
	if len(f.Hunks) == 0 {
		return
	}
	fmt.Fprintf(b, "--- %s\n+++ %s\n", quoteName(oldName), quoteName(newName))
	for _, h := range f.Hunks {
		h.format(b)
	}
}

func (h *Hunk) format(b *strings.Builder) {
	fmt.Fprintf(b, "@@ -%d,%d +%d,%d @@", h.OldStart, h.OldLines, h.NewStart, h.NewLines)
	if h.Section != "" {
		b.WriteString(" " + h.Section)
	}
	b.WriteByte('\n')
	lastOld, lastNew := -1, -1
	for i, l := range h.Lines {
		if l.Kind != '+' {
			lastOld = i
		}
		if l.Kind != '-' {
			lastNew = i
		}
	}
	for i, l := range h.Lines {
		b.WriteByte(l.Kind)
		b.WriteString(l.Text)
		b.WriteByte('\n')
		if (i == lastOld && h.OldNoEOL) || (i == lastNew && h.NewNoEOL) {
			b.WriteString("\\ No newline at end of file\n")
		}
	}
}

// blobID is the abbreviated git blob id of a created (side '+') or deleted
// (side '-') file, whose whole text the hunks hold. GNU patch reads an
// all-zero id as "no file", so the real id matters.
func (f *FileDiff) blobID(side byte) string {
	var b strings.Builder
	for _, h := range f.Hunks {
		noEOL := h.NewNoEOL
		if side == '-' {
			noEOL = h.OldNoEOL
		}
		lines := h.side(side)
		for i, l := range lines {
			b.WriteString(l)
			if i < len(lines)-1 || !noEOL {
				b.WriteByte('\n')
			}
		}
	}
	sum := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", b.Len(), b.String())))
	return hex.EncodeToString(sum[:])[:7]
}

// gitMode spells a regular file's permissions as git does (100644).
func gitMode(m fs.FileMode) string { return fmt.Sprintf("%06o", 0o100000|uint32(m.Perm())) }
