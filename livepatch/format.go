package livepatch

import (
	"fmt"
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
	fmt.Fprintf(b, "diff --git %s %s\n", oldName, newName)
	switch f.Op {
	case OpCreate:
		fmt.Fprintf(b, "new file mode 100%o\n", modeOr(f.NewMode, 0o644))
		oldName = "/dev/null"
	case OpDelete:
		fmt.Fprintf(b, "deleted file mode 100%o\n", modeOr(f.OldMode, 0o644))
		newName = "/dev/null"
	case OpRename, OpCopy:
		if f.OldMode != 0 && f.NewMode != 0 && f.OldMode != f.NewMode {
			fmt.Fprintf(b, "old mode 100%o\nnew mode 100%o\n", f.OldMode, f.NewMode)
		}
		verb := "rename"
		if f.Op == OpCopy {
			verb = "copy"
		}
		fmt.Fprintf(b, "%s from %s\n%s to %s\n", verb, f.OldPath, verb, f.NewPath)
	default:
		if f.OldMode != 0 && f.NewMode != 0 && f.OldMode != f.NewMode {
			fmt.Fprintf(b, "old mode 100%o\nnew mode 100%o\n", f.OldMode, f.NewMode)
		}
	}
	if len(f.Hunks) == 0 {
		return
	}
	fmt.Fprintf(b, "--- %s\n+++ %s\n", oldName, newName)
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
