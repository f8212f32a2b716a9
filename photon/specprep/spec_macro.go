// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"strings"
)

// maxMacroDepth bounds recursive expansion (a macro defined in terms of
// itself would otherwise loop forever).
const maxMacroDepth = 32

// maxExpansion bounds the text one expansion may produce, so that macros
// doubling each other cannot exhaust memory.
const maxExpansion = 1 << 20

// macroSet holds spec macros. Bodies of %define are stored unexpanded and
// expanded on use (as rpm does); %global bodies are expanded when defined.
type macroSet struct {
	defs map[string]string
}

func newMacroSet() *macroSet { return &macroSet{defs: map[string]string{}} }

func (m *macroSet) define(name, body string) { m.defs[name] = body }

func (m *macroSet) undefine(name string) { delete(m.defs, name) }

// expand replaces the macros in s. An undefined %{name} is an error (rpm
// would leave it in place and fail later in a less clear way); an undefined
// bare %name is left alone so that directives such as %setup survive.
func (m *macroSet) expand(s string) (string, error) { return m.expandDepth(s, 0) }

func (m *macroSet) expandDepth(s string, depth int) (string, error) {
	if depth > maxMacroDepth {
		return "", fmt.Errorf("macro expansion nested deeper than %d levels (recursive definition?)", maxMacroDepth)
	}
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() > maxExpansion {
			return "", fmt.Errorf("macro expansion longer than %d bytes", maxExpansion)
		}
		c := s[i]
		if c != '%' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '%':
			b.WriteByte('%')
			i += 2
		case next == '{':
			end := matchBrace(s, i+1, '{', '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated %%{ in %q", s)
			}
			out, err := m.expandBraced(s[i+2:end], depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = end + 1
		case next == '(':
			return "", fmt.Errorf("shell expansion %%(...) is not supported: %q", s)
		case next == '[':
			return "", fmt.Errorf("expression expansion %%[...] is not supported: %q", s)
		case isMacroNameByte(next):
			j := i + 1
			for j < len(s) && isMacroNameByte(s[j]) {
				j++
			}
			name := s[i+1 : j]
			body, ok := m.defs[name]
			if !ok {
				b.WriteString(s[i:j]) // a directive such as %setup, or literal text
				i = j
				continue
			}
			out, err := m.expandDepth(body, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// expandBraced handles the inside of %{...}: name, ?name, !?name, ?name:text,
// !?name:text.
func (m *macroSet) expandBraced(inner string, depth int) (string, error) {
	neg, cond := false, false
	rest := inner
	for len(rest) > 0 && (rest[0] == '!' || rest[0] == '?') {
		if rest[0] == '!' {
			neg = !neg
		} else {
			cond = true
		}
		rest = rest[1:]
	}
	name, text, hasText := strings.Cut(rest, ":")
	if name == "" || !isMacroName(name) {
		return "", fmt.Errorf("unsupported macro %%{%s}", inner)
	}
	body, ok := m.defs[name]
	if cond {
		if ok == neg {
			return "", nil
		}
		if hasText {
			if t := strings.TrimSpace(text); strings.HasPrefix(t, "%define ") || strings.HasPrefix(t, "%global ") {
				// A conditional definition: the caller runs it as a line, and a
				// %define body stays unexpanded until used.
				return t, nil
			}
			return m.expandDepth(text, depth+1)
		}
		return m.expandDepth(body, depth+1)
	}
	if neg || hasText {
		return "", fmt.Errorf("unsupported macro %%{%s}", inner)
	}
	if !ok {
		return "", fmt.Errorf("undefined macro %%{%s}", name)
	}
	return m.expandDepth(body, depth+1)
}

func isMacroNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isMacroName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isMacroNameByte(s[i]) {
			return false
		}
	}
	return true
}

// matchBrace returns the index of the bracket closing the one at open, or -1.
func matchBrace(s string, open int, l, r byte) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case l:
			depth++
		case r:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
