// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import "testing"

func TestParseJournalLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{`C "usr/bin/a"`, true},
		{`T "usr/.rpmpkg-0a"`, true},
		{`B "a" "a.old"`, true},
		{`D "." "755" "1" "2"`, true},
		{`D "usr/lib" "700" "-1" "2"`, true},
		{`commit`, true},
		{`C "usr/bin/a`, false},    // cut by a kill
		{`B "a"`, false},           // a field short
		{`C "../a"`, false},        // leaves dest
		{`C "/etc/passwd"`, false}, // absolute
		{`X "a"`, false},
		{`D "." "75x" "1" "2"`, false}, // mode would chmod to 0
		{`D "." "755" "" "2"`, false},
		{`D "." "755" "1" "2x"`, false},
		{`D "../up" "755" "1" "2"`, false},
	}
	for _, tt := range tests {
		if _, ok := parseJournalLine(tt.line); ok != tt.ok {
			t.Errorf("parseJournalLine(%s) ok = %v, want %v", tt.line, ok, tt.ok)
		}
	}
}
