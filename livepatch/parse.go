// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	godiff "github.com/sourcegraph/go-diff/diff"
)

// ParseOptions tunes Parse. The zero value detects the strip level.
type ParseOptions struct {
	// Strip is the -p level; StripDetect (the zero value) detects it.
	Strip StripLevel
	// Tree, when set, is the source tree the patches are meant for; it lets
	// detection pick the strip level under which the files exist.
	Tree string
}

// ParseFiles reads and parses patch files in order. A file may hold several
// patches (an mbox of format-patch mails); all are returned in order.
func ParseFiles(paths []string, opts *ParseOptions) ([]*Patch, error) {
	if len(paths) == 0 {
		return nil, ErrNoPatches
	}
	var all []*Patch
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read patch: %w", err)
		}
		ps, err := Parse(p, data, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	return all, nil
}

// Parse parses the patch text data; source names it in errors. It returns
// one Patch per format-patch mail (one for a plain diff or quilt patch).
func Parse(source string, data []byte, opts *ParseOptions) ([]*Patch, error) {
	if opts == nil {
		opts = &ParseOptions{}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &ParseError{Source: source, Msg: "patch contains NUL bytes (binary data, not a text diff)", Err: ErrBinaryPatch}
	}
	lines := stripMailCRs(splitLines(string(data)))
	var out []*Patch
	for _, c := range splitMails(lines) {
		p, err := parseChunk(source, c, opts)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, &ParseError{Source: source, Msg: "no file diffs found (expected unified diff headers '--- ' and '+++ ')", Err: ErrMalformedPatch}
	}
	return out, nil
}

// stripMailCRs drops the '\r' of every line when all lines have one: the
// patch file itself was converted to CRLF (a mailer, an editor), not the
// files it patches. Patches for CRLF files keep their CRs in hunk lines
// only, while their headers end in '\n'.
func stripMailCRs(lines []string) []string {
	if len(lines) == 0 {
		return lines
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "\r") {
			return lines
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSuffix(l, "\r")
	}
	return out
}

// splitLines splits text into lines without their '\n' (a '\r' stays).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// parseChunk parses one mail or plain diff. go-diff finds the file diffs,
// their names and extended headers; the hunks are then read from the raw
// lines by their declared counts, as GNU patch does, so mail signatures,
// "\ No newline" markers and CRs are handled exactly and errors carry lines.
func parseChunk(source string, c chunk, opts *ParseOptions) (*Patch, error) {
	if err := checkGitLines(source, c); err != nil {
		return nil, err
	}
	text := strings.Join(c.lines, "\n") + "\n"
	fds, err := godiff.ParseMultiFileDiff([]byte(text))
	if err != nil {
		line := 0
		var pe *godiff.ParseError
		if errors.As(err, &pe) && pe.Line > 0 {
			line = c.first + pe.Line
		}
		if l, msg, ok := firstBadHunkHeader(c); ok {
			line, err = l, errors.New(msg)
		}
		return nil, &ParseError{Source: source, Line: line, Msg: "cannot parse diff: " + err.Error(), Err: errors.Join(ErrMalformedPatch, err)}
	}
	if len(fds) == 0 {
		return nil, nil
	}
	p := &Patch{Source: source, Subject: mailSubject(c.lines)}
	sc := &hunkScanner{source: source, c: c}
	for _, fd := range fds {
		f, err := fileFromGoDiff(source, fd)
		if err != nil {
			return nil, err
		}
		if err := sc.readFile(f, fd); err != nil {
			return nil, err
		}
		if err := sc.checkQuotedNames(f, goDiffNames{fd.OrigName, fd.NewName}); err != nil {
			return nil, err
		}
		classifyByHunks(f, fd)
		p.Files = append(p.Files, f)
	}
	if err := resolvePaths(p, opts); err != nil {
		return nil, err
	}
	return p, nil
}

// fileFromGoDiff turns go-diff's names and git extended headers into a
// FileDiff without hunks.
func fileFromGoDiff(source string, fd *godiff.FileDiff) (*FileDiff, error) {
	f := &FileDiff{OldName: fd.OrigName, NewName: fd.NewName, Op: OpModify}
	if strings.HasPrefix(fd.OrigName, "Only in ") || (fd.NewName == "" && len(fd.Hunks) == 0 && fd.OrigName != "" && !hasGitHeader(fd.Extended)) {
		return nil, &ParseError{Source: source, Msg: fmt.Sprintf("%q exists in only one tree (diff 'Only in' line): regenerate the patch with diff -N", fd.OrigName), Err: ErrMalformedPatch}
	}
	// Only the headers after the last "diff --git" belong to this file;
	// earlier ones are the mail preamble.
	ext := fd.Extended
	for i := len(ext) - 1; i >= 0; i-- {
		if strings.HasPrefix(ext[i], "diff --git ") {
			ext = ext[i:]
			break
		}
	}
	for _, h := range ext {
		h = strings.TrimRight(h, "\r")
		if isModeHeader(h) {
			m, err := parseMode(h)
			if err != nil {
				return nil, &ParseError{Source: source, Msg: err.Error(), Err: ErrMalformedPatch}
			}
			switch {
			case strings.HasPrefix(h, "new file mode "):
				f.Op, f.NewMode = OpCreate, m
			case strings.HasPrefix(h, "deleted file mode "):
				f.Op, f.OldMode = OpDelete, m
			case strings.HasPrefix(h, "old mode "):
				f.OldMode = m
			default:
				f.NewMode = m
			}
			continue
		}
		switch {
		case strings.HasPrefix(h, "GIT binary patch"), strings.HasPrefix(h, "Binary files "):
			return nil, &ParseError{Source: source, Msg: fmt.Sprintf("binary diff for %s cannot be applied or live patched; drop it from the patch", displayName(fd)), Err: ErrBinaryPatch}
		case strings.HasPrefix(h, "rename from "):
			f.Op = OpRename
			f.OldName = "a/" + unquote(strings.TrimPrefix(h, "rename from "))
		case strings.HasPrefix(h, "rename to "):
			f.NewName = "b/" + unquote(strings.TrimPrefix(h, "rename to "))
		case strings.HasPrefix(h, "copy from "):
			f.Op = OpCopy
			f.OldName = "a/" + unquote(strings.TrimPrefix(h, "copy from "))
		case strings.HasPrefix(h, "copy to "):
			f.NewName = "b/" + unquote(strings.TrimPrefix(h, "copy to "))
		}
	}
	if (f.OldName == "" || f.NewName == "") && len(ext) > 0 && strings.HasPrefix(ext[0], "diff --git ") {
		// go-diff leaves header-only diffs unnamed when a mail preamble
		// precedes them; the "diff --git" line still names them.
		o, n, ok := gitDiffNames(strings.TrimRight(strings.TrimPrefix(ext[0], "diff --git "), "\r"))
		if !ok {
			return nil, &ParseError{Source: source, Msg: fmt.Sprintf("cannot read file names from %q", clip(ext[0])), Err: ErrMalformedPatch}
		}
		if f.OldName == "" && f.Op != OpCreate {
			f.OldName = o
		}
		if f.NewName == "" && f.Op != OpDelete {
			f.NewName = n
		}
	}
	if (f.Op == OpModify || f.Op == OpRename || f.Op == OpCopy) && (f.OldMode == 0) != (f.NewMode == 0) {
		return nil, &ParseError{Source: source, Msg: fmt.Sprintf("mode change for %s needs both 'old mode' and 'new mode'", displayName(fd)), Err: ErrMalformedPatch}
	}
	if f.OldName == "/dev/null" {
		f.Op = OpCreate
	}
	if f.NewName == "/dev/null" {
		f.Op = OpDelete
	}
	return f, nil
}

// gitDiffNames splits the arguments of a "diff --git" line; either name
// may be quoted.
func gitDiffNames(args string) (string, string, bool) {
	if strings.HasPrefix(args, `"`) {
		o, rest, err := unquoteC(args)
		if err != nil || !strings.HasPrefix(rest, " ") {
			return "", "", false
		}
		n, ok := wholeName(strings.TrimLeft(rest, " "))
		return o, n, ok
	}
	if o, n, ok := strings.Cut(args, " b/"); ok && strings.HasPrefix(o, "a/") && !strings.Contains(n, `"`) {
		return o, "b/" + n, true
	}
	if i := strings.Index(args, ` "`); i > 0 {
		n, ok := wholeName(args[i+1:])
		return args[:i], n, ok
	}
	o, n, ok := strings.Cut(args, " ")
	return o, n, ok && o != "" && n != ""
}

// wholeName reads s as one name, quoted or not.
func wholeName(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return s, s != ""
	}
	n, rest, err := unquoteC(s)
	return n, err == nil && rest == ""
}

func isModeHeader(h string) bool {
	for _, p := range []string{"new file mode ", "deleted file mode ", "old mode ", "new mode "} {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

func hasGitHeader(ext []string) bool {
	for _, h := range ext {
		if strings.HasPrefix(h, "diff --git ") {
			return true
		}
	}
	return false
}

func displayName(fd *godiff.FileDiff) string {
	if fd.NewName != "" && fd.NewName != "/dev/null" {
		return fd.NewName
	}
	return fd.OrigName
}

// parseMode reads the mode of a git header line; only regular files
// (100644, 100755) can be patched.
func parseMode(h string) (os.FileMode, error) {
	f := strings.Fields(h)
	m, err := strconv.ParseUint(f[len(f)-1], 8, 32)
	if err != nil || m>>9 != 0o100 {
		return 0, fmt.Errorf("unsupported file mode in %q: only regular files (100644, 100755) can be patched, not symlinks or submodules", h)
	}
	return os.FileMode(m & 0o777), nil
}

// classifyByHunks recognises creations and deletions in diffs without git
// headers: diff -N marks the missing side with the epoch timestamp, and
// quilt with a single -0,0 or +0,0 hunk.
func classifyByHunks(f *FileDiff, fd *godiff.FileDiff) {
	if f.Op != OpModify || len(f.Hunks) != 1 {
		return
	}
	h := f.Hunks[0]
	switch {
	case h.OldStart == 0 && h.OldLines == 0 && (fd.OrigTime == nil || fd.OrigTime.Unix() == 0):
		f.Op = OpCreate
	case h.NewStart == 0 && h.NewLines == 0 && fd.NewTime != nil && fd.NewTime.Unix() == 0:
		f.Op = OpDelete
	}
}
