// SPDX-License-Identifier: Apache-2.0

// Package kver reads the upstream major.minor a kernel release starts with,
// which decides what its livepatch core can do, and names the versions
// where that changed.
package kver

import (
	"fmt"
	"strings"
)

// Version is a kernel's upstream major.minor.
type Version struct{ Major, Minor int }

// The versions where the livepatch core changed in ways klpkit depends on.
var (
	// AtomicReplace: klp_patch.replace exists, a disabled patch is freed
	// (its sysfs directory goes), and the strict stacking rules end. The
	// one place klpkit says so: photon's release table
	// (ReleaseInfo.AtomicReplace), kmod's stacking rules and build's
	// replace check all read it here, the one package all of them may
	// import.
	AtomicReplace = Version{5, 1}
)

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Before reports whether v is older than o.
func (v Version) Before(o Version) bool {
	return v.Major < o.Major || (v.Major == o.Major && v.Minor < o.Minor)
}

// FromRelease reads the version a release (uname -r) starts with:
// "4.19.325-1.ph3" and "6.1.0-56-amd64" give 4.19 and 6.1. ok is false when
// the release does not start with <major>.<minor> (decimal, no sign or
// leading zero, each at most 255 as in KERNEL_VERSION).
func FromRelease(release string) (v Version, ok bool) {
	majorText, rest, found := strings.Cut(release, ".")
	if !found {
		return v, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	major, ok1 := number(majorText)
	minor, ok2 := number(rest[:end])
	if !ok1 || !ok2 || major == 0 {
		return v, false
	}
	return Version{major, minor}, true
}

func number(s string) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 255
}
