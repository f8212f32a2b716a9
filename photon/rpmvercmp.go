// SPDX-License-Identifier: Apache-2.0

package photon

import "strings"

// rpmvercmp compares two version or release strings the way rpm does:
// alternating runs of digits and letters, digits compared numerically and
// newer than letters, separators ignored, the longer string newer when all
// shared segments are equal. Tilde and caret (pre/post-release markers)
// never appear in Photon kernel releases and are treated as separators.
func rpmvercmp(a, b string) int {
	for {
		a = strings.TrimLeftFunc(a, isSep)
		b = strings.TrimLeftFunc(b, isSep)
		if a == "" || b == "" {
			return sign(len(a) - len(b))
		}
		var sa, sb string
		numeric := isDigit(rune(a[0]))
		sa, a = cutRun(a, numeric)
		sb, b = cutRun(b, numeric)
		if sb == "" { // b's segment is of the other kind
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa = strings.TrimLeft(sa, "0")
			sb = strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return sign(len(sa) - len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
}

func cutRun(s string, digits bool) (run, rest string) {
	i := 0
	for i < len(s) && isAlnum(rune(s[i])) && isDigit(rune(s[i])) == digits {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
func isAlnum(r rune) bool { return isDigit(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isSep(r rune) bool   { return !isAlnum(r) }
