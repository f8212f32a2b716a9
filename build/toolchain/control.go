// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// paragraph is one stanza of a Debian control file: field names as
// written (case matters nowhere in the archive's files we read), values
// with continuation lines joined by "\n".
type paragraph map[string]string

// maxControlLine bounds one line of a Packages index or InRelease (the
// longest real ones, Description lines, are a few KiB).
const maxControlLine = 1 << 20

// parseControl splits data into paragraphs (separated by blank lines).
// PGP armour is not handled here: InRelease is decoded first.
func parseControl(data []byte, each func(paragraph) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxControlLine)
	p := paragraph{}
	last := ""
	line := 0
	flush := func() error {
		if len(p) == 0 {
			return nil
		}
		err := each(p)
		p, last = paragraph{}, ""
		return err
	}
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(s) == "":
			if err := flush(); err != nil {
				return err
			}
		case s[0] == ' ' || s[0] == '\t':
			if last == "" {
				return fmt.Errorf("line %d: continuation line before any field", line)
			}
			p[last] += "\n" + strings.TrimSpace(s)
		case s[0] == '#':
		default:
			name, value, ok := strings.Cut(s, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return fmt.Errorf("line %d: %q is not a field", line, truncate(s, 80))
			}
			if _, dup := p[name]; dup {
				return fmt.Errorf("line %d: field %s given twice in one paragraph", line, name)
			}
			p[name] = strings.TrimSpace(value)
			last = name
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return flush()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
