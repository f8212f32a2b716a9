// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import "testing"

func TestParseJournalLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{`C "usr/bin/a" "2049" "1234"`, true},
		{`T "usr/.rpmpkg-0a"`, true},
		{`B "a" "a.old" "2049" "77"`, true},
		{`D "." "755" "1" "2" "2049" "5"`, true},
		{`D "usr/lib" "700" "-1" "2" "0" "0"`, true},
		{`commit`, true},
		{`C "usr/bin/a" "2049" "12`, false}, // cut by a kill
		{`C "usr/bin/a"`, false},            // no identity
		{`C "usr/bin/a" "2049" "x"`, false},
		{`B "a" "a.old"`, false}, // no identity
		{`B "a" "2049" "77"`, false},
		{`C "../a" "1" "2"`, false},        // leaves dest
		{`C "/etc/passwd" "1" "2"`, false}, // absolute
		{`B "a" "../a.old" "1" "2"`, false},
		{`X "a"`, false},
		{`D "." "75x" "1" "2" "1" "2"`, false}, // mode would chmod to 0
		{`D "." "755" "" "2" "1" "2"`, false},
		{`D "." "755" "1" "2x" "1" "2"`, false},
		{`D "." "755" "1" "2" "1" "-2"`, false},
		{`D "." "755" "1" "2"`, false},
		{`D "../up" "755" "1" "2" "1" "2"`, false},
	}
	for _, tt := range tests {
		if _, ok := parseJournalLine(tt.line); ok != tt.ok {
			t.Errorf("parseJournalLine(%s) ok = %v, want %v", tt.line, ok, tt.ok)
		}
	}
}
