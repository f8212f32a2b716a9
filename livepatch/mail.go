// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"regexp"
	"strings"
)

// chunk is a slice of the patch file's lines: one mail of an mbox, or the
// whole file. first is the 0-based index of its first line in the file.
type chunk struct {
	first int
	lines []string
}

var mailHeaderLine = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*: `)

// splitMails cuts an mbox (git format-patch output, possibly several mails)
// at its "From " separator lines. Anything else is one chunk.
func splitMails(lines []string) []chunk {
	var starts []int
	for i, l := range lines {
		if !strings.HasPrefix(l, "From ") {
			continue
		}
		if i > 0 && strings.TrimRight(lines[i-1], "\r") != "" {
			continue
		}
		if i+1 < len(lines) && mailHeaderLine.MatchString(lines[i+1]) {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 || starts[0] != 0 {
		starts = append([]int{0}, starts...)
	}
	out := make([]chunk, 0, len(starts))
	for k, s := range starts {
		e := len(lines)
		if k+1 < len(starts) {
			e = starts[k+1]
		}
		out = append(out, chunk{first: s, lines: lines[s:e]})
	}
	return out
}

var patchTag = regexp.MustCompile(`^\s*\[[^\]]*\]\s*`)

// mailSubject returns the Subject header of a mail chunk (unfolded, without
// "[PATCH n/m]" tags), or "" when the chunk has no mail header.
func mailSubject(lines []string) string {
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if l == "" || strings.HasPrefix(l, "diff ") || strings.HasPrefix(l, "--- ") {
			return ""
		}
		if !strings.HasPrefix(l, "Subject: ") {
			continue
		}
		s := strings.TrimPrefix(l, "Subject: ")
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], " ") || strings.HasPrefix(lines[i+1], "\t")) {
			i++
			s += " " + strings.TrimSpace(strings.TrimRight(lines[i], "\r"))
		}
		for patchTag.MatchString(s) {
			s = patchTag.ReplaceAllString(s, "")
		}
		return strings.TrimSpace(s)
	}
	return ""
}
