// SPDX-License-Identifier: Apache-2.0

package ccwrap

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The compiler check, one implementation for build and photon/kernelsrc:
// a kernel's compiler identification comes from its vmlinux's .comment
// ("GCC: (Debian 12.2.0-14) 12.2.0"), a compiler's from the first line of
// its --version or from the .comment of an object it made; both are
// compared without the "GCC: " prefix or the program name.

// ErrNoIdent means an ELF file's .comment names no GCC compiler (or the
// file has no .comment).
var ErrNoIdent = errors.New("names no GCC compiler")

// ErrELFPanic marks a panic of debug/elf recovered while reading a file's
// .comment (it can panic on corrupt input).
var ErrELFPanic = errors.New("debug/elf failed on unexpected input")

// ELFIdent returns the first "GCC: " string of an ELF file's .comment
// section without its prefix: "(Debian 12.2.0-14) 12.2.0". A file
// without one gives an error wrapping ErrNoIdent.
func ELFIdent(path string) (ident string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			ident, err = "", fmt.Errorf("%w: %s: %v", ErrELFPanic, path, r)
		}
	}()
	sec := f.Section(".comment")
	if sec == nil {
		return "", fmt.Errorf("%s has no .comment section: %w (cannot tell which compiler built it)", path, ErrNoIdent)
	}
	data, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("%s: .comment: %w", path, err)
	}
	for _, s := range bytes.Split(data, []byte{0}) {
		if v, ok := strings.CutPrefix(string(s), "GCC:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: .comment %w", path, ErrNoIdent)
}

// Ident returns a compiler identification without what names the
// program: the "GCC: " of a .comment string, or the program name of a
// `gcc --version` line ("gcc-12 (Debian 12.2.0-14) 12.2.0"). Both give
// "(Debian 12.2.0-14) 12.2.0"; an identification without either is
// returned trimmed.
func Ident(s string) string {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutPrefix(s, "GCC:"); ok {
		return strings.TrimSpace(v)
	}
	if i := strings.IndexByte(s, ' '); i >= 0 && !strings.HasPrefix(s, "(") {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

var versionRE = regexp.MustCompile(`\b(\d+\.\d+(?:\.\d+)?)\b`)

// Version returns the last dotted version of an identification:
// "(Debian 12.2.0-14) 12.2.0" gives "12.2.0"; "" when there is none.
func Version(ident string) string {
	m := versionRE.FindAllString(ident, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// Same reports whether two identifications (in any form Ident takes)
// name the same compiler: exactly, as kpatch-build compares them, or with
// versionOnly the same gcc version ("(Debian 12.2.0-14) 12.2.0" and
// "(GCC) 12.2.0").
func Same(a, b string, versionOnly bool) bool {
	a, b = Ident(a), Ident(b)
	if versionOnly {
		return Version(a) != "" && Version(a) == Version(b)
	}
	return a == b
}
