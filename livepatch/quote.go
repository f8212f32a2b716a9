// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"errors"
	"fmt"
	"strings"
)

// git writes a file name that holds a quote, a backslash, a control
// character or (by default) a byte above 0x7f as a C string: in double
// quotes, with \a \b \t \n \v \f \r \" \\ and three-digit octal escapes.
// GNU patch and git apply read that form; an opening quote without its
// closing one is malformed, never a file named '"'.

var errUnterminated = errors.New("unterminated quoted file name")

// unquoteC reads the quoted name s starts with and returns it with the
// text after the closing quote.
func unquoteC(s string) (name, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, fmt.Errorf("quoted file name must start with '\"': %q", clip(s))
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
		default:
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch e := s[i]; e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\':
			b.WriteByte(e)
		case '0', '1', '2', '3':
			if i+2 >= len(s) || !isOctal(s[i+1]) || !isOctal(s[i+2]) {
				return "", "", fmt.Errorf("quoted file name %q: octal escape needs three digits", clip(s))
			}
			b.WriteByte((e-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
			i += 2
		default:
			return "", "", fmt.Errorf("quoted file name %q: unknown escape \\%c", clip(s), e)
		}
	}
	return "", "", fmt.Errorf("%w: %q", errUnterminated, clip(s))
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// unquote returns the name s spells: unquoted when s is a whole quoted
// name, else s itself (checkQuotedNames reports a bad one with its line).
func unquote(s string) string {
	if name, rest, err := unquoteC(s); err == nil && rest == "" {
		return name
	}
	return s
}

// quoteName spells name for a diff header: as it is, or quoted as git
// does when it holds a quote, a backslash, a control character or a byte
// above 0x7f. A space is quoted too, which git does not do but reads: an
// unquoted space at the end is lost to trimming, and one in the middle
// makes "diff --git a/x b/y b/x b/y" ambiguous.
func quoteName(name string) string {
	if !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '"' || r == '\\' }) {
		return name
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < ' ' || c >= 0x7f {
				fmt.Fprintf(&b, `\%03o`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// headerName reads the name of a "--- " or "+++ " line (without the
// prefix): quoted, then nothing or a timestamp after blanks; ok is false
// when the name is not quoted (go-diff's reading stands then).
func headerName(s string) (name string, ok bool, err error) {
	s = strings.TrimRight(s, "\r")
	if !strings.HasPrefix(s, `"`) {
		return "", false, nil
	}
	name, rest, err := unquoteC(s)
	if err != nil {
		return "", false, err
	}
	if rest != "" && rest[0] != '\t' && rest[0] != ' ' {
		return "", false, fmt.Errorf("quoted file name %q: text after the closing quote", clip(s))
	}
	return name, true, nil
}

// checkQuotedNames checks the quoted names in the raw header lines of f
// (found by readFile, which set f.Line) and takes the names of its "--- "
// and "+++ " lines from them: go-diff reads quoted names with Go's
// escapes and keeps a malformed one as a name.
func (s *hunkScanner) checkQuotedNames(f *FileDiff, fd goDiffNames) error {
	lines := s.c.lines
	start := f.Line - s.c.first - 1
	if start < 0 || start >= len(lines) {
		return nil
	}
	bad := func(i int, err error) error {
		return &ParseError{Source: s.source, Line: s.lineNo(i), Msg: err.Error(), Err: ErrMalformedPatch}
	}
	for i := start; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if i > start && strings.HasPrefix(l, "diff --git ") {
			return nil
		}
		if isHeaderPair(lines, i) {
			for j, set := range []struct {
				name   *string
				goDiff string
			}{{&f.OldName, fd.OrigName}, {&f.NewName, fd.NewName}} {
				name, ok, err := headerName(lines[i+j][4:])
				if err != nil {
					return bad(i+j, err)
				}
				if ok && *set.name == set.goDiff {
					*set.name = name
				}
			}
			return nil
		}
		for _, p := range []string{"rename from ", "rename to ", "copy from ", "copy to "} {
			if v, ok := strings.CutPrefix(l, p); ok && strings.HasPrefix(v, `"`) {
				if _, rest, err := unquoteC(v); err != nil {
					return bad(i, err)
				} else if rest != "" {
					return bad(i, fmt.Errorf("quoted file name %q: text after the closing quote", clip(v)))
				}
			}
		}
	}
	return nil
}

// goDiffNames are the names go-diff read from the "--- " and "+++ " lines.
type goDiffNames struct{ OrigName, NewName string }

// checkGitLines checks the quoted names of every "diff --git" line of a
// chunk before go-diff reads it: go-diff drops a diff whose line it cannot
// split, so a header-only diff would vanish without an error.
func checkGitLines(source string, c chunk) error {
	for i, l := range c.lines {
		args, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "diff --git ")
		if !ok || !strings.Contains(args, `"`) {
			continue
		}
		if _, _, ok := gitDiffNames(args); !ok {
			return &ParseError{Source: source, Line: c.first + i + 1, Msg: fmt.Sprintf("malformed quoted file name in %q", clip(l)), Err: ErrMalformedPatch}
		}
	}
	return nil
}
