// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an upstream kernel version such as 5.10.118.
type Version struct {
	Major, Minor, Patch int
}

// V is shorthand for Version{major, minor, patch}.
func V(major, minor, patch int) Version { return Version{major, minor, patch} }

// ParseVersion parses "MAJOR.MINOR.PATCH" with decimal components.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("kernel version %q: want three numbers MAJOR.MINOR.PATCH", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := parseNumber(p)
		if err != nil {
			return Version{}, fmt.Errorf("kernel version %q: %w", s, err)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// String gives "MAJOR.MINOR.PATCH".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	for _, d := range [...]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	return 0
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// maxDigits bounds numeric fields so that they fit an int and round-trip.
const maxDigits = 9

// parseNumber accepts a non-empty decimal without sign or leading zeros, so
// that the number prints back exactly as written.
func parseNumber(s string) (int, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("empty number")
	case len(s) > maxDigits:
		return 0, fmt.Errorf("number %q is too long", s)
	case len(s) > 1 && s[0] == '0':
		return 0, fmt.Errorf("number %q has a leading zero", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	return strconv.Atoi(s)
}

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}
