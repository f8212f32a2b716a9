// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"strconv"
	"strings"

	godiff "github.com/sourcegraph/go-diff/diff"
)

// hunkScanner walks the raw lines of one chunk in step with go-diff's file
// list and reads each hunk body by the counts in its header.
type hunkScanner struct {
	source string
	c      chunk
	pos    int // next unread index into c.lines
}

func (s *hunkScanner) lineNo(i int) int { return s.c.first + i + 1 }

func (s *hunkScanner) errorf(i int, format string, args ...any) error {
	return &ParseError{Source: s.source, Line: s.lineNo(i), Msg: fmt.Sprintf(format, args...), Err: ErrMalformedPatch}
}

func isHeaderPair(lines []string, i int) bool {
	return strings.HasPrefix(lines[i], "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ")
}

// readFile finds fd's header in the raw lines and reads its hunks into f.
func (s *hunkScanner) readFile(f *FileDiff, fd *godiff.FileDiff) error {
	lines := s.c.lines
	start := -1
	for i := s.pos; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "diff --git ") || isHeaderPair(lines, i) {
			start = i
			break
		}
	}
	if start < 0 {
		return s.errorf(s.pos, "file header for %s not found", displayName(fd))
	}
	f.Line = s.lineNo(start)
	header := -1
	if isHeaderPair(lines, start) {
		header = start
	} else {
		for i := start + 1; i < len(lines) && !strings.HasPrefix(lines[i], "diff --git "); i++ {
			if isHeaderPair(lines, i) {
				header = i
				break
			}
		}
	}
	if header < 0 {
		if len(fd.Hunks) > 0 {
			return s.errorf(start, "hunks for %s without '--- '/'+++ ' header", displayName(fd))
		}
		if f.Op == OpModify && f.OldMode == f.NewMode {
			return s.errorf(start, "file diff for %s changes nothing (no hunks, no mode change)", displayName(fd))
		}
		s.pos = start + 1
		return nil
	}
	s.pos = header + 2
	for s.pos < len(lines) && strings.HasPrefix(lines[s.pos], "@@") {
		h, err := s.readHunk(len(f.Hunks) + 1)
		if err != nil {
			return err
		}
		f.Hunks = append(f.Hunks, h)
	}
	if len(f.Hunks) < len(fd.Hunks) {
		return s.errorf(s.pos, "unexpected line after hunk #%d of %s: %q", len(f.Hunks), displayName(fd), clip(lines[s.pos]))
	}
	if len(f.Hunks) == 0 && f.Op == OpModify && f.OldMode == f.NewMode {
		return s.errorf(header, "file diff for %s has no hunks", displayName(fd))
	}
	return nil
}

// readHunk reads the hunk whose header is at s.pos.
func (s *hunkScanner) readHunk(n int) (*Hunk, error) {
	lines := s.c.lines
	at := s.pos
	h, err := parseHunkHeader(lines[at])
	if err != nil {
		return nil, s.errorf(at, "hunk #%d: %v", n, err)
	}
	h.Line = s.lineNo(at)
	oldLeft, newLeft := h.OldLines, h.NewLines
	i := at + 1
	for ; i < len(lines) && (oldLeft > 0 || newLeft > 0); i++ {
		l := lines[i]
		kind := byte(' ')
		text := ""
		if l != "" && l != "\r" {
			kind, text = l[0], l[1:]
		}
		switch kind {
		case ' ':
			oldLeft--
			newLeft--
		case '-':
			oldLeft--
		case '+':
			newLeft--
		case '\\':
			if err := markNoEOL(h); err != nil {
				return nil, s.errorf(i, "hunk #%d: %v", n, err)
			}
			continue
		default:
			return nil, s.errorf(i, "hunk #%d: unexpected line %q: expected %d more old and %d more new lines (lines must start with ' ', '-' or '+')", n, clip(l), max(oldLeft, 0), max(newLeft, 0))
		}
		if oldLeft < 0 || newLeft < 0 {
			return nil, s.errorf(i, "hunk #%d: more lines than its header @@ -%d,%d +%d,%d @@ declares", n, h.OldStart, h.OldLines, h.NewStart, h.NewLines)
		}
		h.Lines = append(h.Lines, Line{Kind: kind, Text: text})
	}
	if oldLeft > 0 || newLeft > 0 {
		return nil, s.errorf(min(i, len(lines)-1), "hunk #%d is truncated: %d old and %d new lines missing", n, oldLeft, newLeft)
	}
	if i < len(lines) && strings.HasPrefix(lines[i], `\`) {
		if err := markNoEOL(h); err != nil {
			return nil, s.errorf(i, "hunk #%d: %v", n, err)
		}
		i++
	}
	s.pos = i
	return h, nil
}

// markNoEOL applies a "\ No newline at end of file" marker to the line
// before it.
func markNoEOL(h *Hunk) error {
	if len(h.Lines) == 0 {
		return fmt.Errorf(`"\ No newline at end of file" before any line`)
	}
	switch h.Lines[len(h.Lines)-1].Kind {
	case '-':
		h.OldNoEOL = true
	case '+':
		h.NewNoEOL = true
	default:
		h.OldNoEOL, h.NewNoEOL = true, true
	}
	return nil
}

// parseHunkHeader parses "@@ -a[,b] +c[,d] @@ section".
func parseHunkHeader(line string) (*Hunk, error) {
	line = strings.TrimRight(line, "\r")
	bad := fmt.Errorf("bad hunk header %q (want @@ -start,count +start,count @@)", clip(line))
	rest, ok := strings.CutPrefix(line, "@@ -")
	if !ok {
		return nil, bad
	}
	oldR, rest, ok := strings.Cut(rest, " +")
	if !ok {
		return nil, bad
	}
	newR, section, ok := strings.Cut(rest, " @@")
	if !ok {
		return nil, bad
	}
	h := &Hunk{Section: strings.TrimSpace(section)}
	var err1, err2 error
	h.OldStart, h.OldLines, err1 = parseRange(oldR)
	h.NewStart, h.NewLines, err2 = parseRange(newR)
	if err1 != nil || err2 != nil {
		return nil, bad
	}
	if (h.OldLines > 0 && h.OldStart == 0) || (h.NewLines > 0 && h.NewStart == 0) {
		return nil, fmt.Errorf("hunk header %q: a range with lines cannot start at line 0", clip(line))
	}
	return h, nil
}

const maxHunkLines = 1 << 24

func parseRange(r string) (start, count int, err error) {
	a, b, hasCount := strings.Cut(r, ",")
	start, err = strconv.Atoi(a)
	if err != nil || start < 0 || start > maxHunkLines {
		return 0, 0, fmt.Errorf("bad range %q", r)
	}
	count = 1
	if hasCount {
		count, err = strconv.Atoi(b)
		if err != nil || count < 0 || count > maxHunkLines {
			return 0, 0, fmt.Errorf("bad range %q", r)
		}
	}
	return start, count, nil
}

// firstBadHunkHeader finds the first "@@" line that does not parse, to
// point go-diff's errors at an exact line.
func firstBadHunkHeader(c chunk) (int, string, bool) {
	for i, l := range c.lines {
		if strings.HasPrefix(l, "@@") {
			if _, err := parseHunkHeader(l); err != nil {
				return c.first + i + 1, err.Error(), true
			}
		}
	}
	return 0, "", false
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
