// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
)

// ansiEscape matches the terminal control sequences firmware and kernels
// print on the serial line: CSI sequences (ESC [ ... final byte), two-byte
// escapes such as ESC c (reset) or ESC 7 (save cursor), and OSC strings.
var ansiEscape = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[0-9=>@-Z\\-_a-z])`)

// syslogPrefix is the "<6>" priority at the start of each kernel log line.
var syslogPrefix = regexp.MustCompile(`(?m)^<[0-9]+>`)

// CleanSerial removes carriage returns, terminal escapes and other control
// characters (except newline and tab) from a serial console capture.
func CleanSerial(b []byte) string {
	s := ansiEscape.ReplaceAllString(string(b), "")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serialBuffer collects the console output and optionally forwards it.
type serialBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *serialBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *serialBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}
