// SPDX-License-Identifier: Apache-2.0

// Package version says which klpkit a program was built from, for the
// CLIs' --version: the module version when klpkit was built as a module
// (go install ...@v1.2.0, or a dependency of the program), else "devel" with
// the commit and its time when built from a checkout.
package version

import (
	"runtime/debug"
	"strings"
)

// Module is klpkit's module path.
const Module = "github.com/klpkit/klpkit"

// String is klpkit's version in the running program, e.g. "v1.2.0" or
// "devel (3f2a9c1d4b5e, 2026-12-07T05:00:00Z, modified)".
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel (no build info)"
	}
	return FromBuildInfo(bi)
}

// Line is the line the CLIs print: "klpkit <String()>".
func Line() string { return "klpkit " + String() }

// FromBuildInfo is String for the given build info.
func FromBuildInfo(bi *debug.BuildInfo) string {
	if bi.Main.Path != Module {
		// A dependency of the program.
		for _, d := range bi.Deps {
			if d.Path != Module {
				continue
			}
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			if v != "" {
				return v
			}
		}
		// A directory replacement: any VCS stamps are the program's.
		return "devel"
	}
	v := bi.Main.Version
	// Built in klpkit's checkout: the go command records the commit (unless
	// -buildvcs=false, or for test binaries) and, since Go 1.24, derives a
	// version from it: a tag for a clean tagged commit, else a
	// pseudo-version, which says less than the commit itself.
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	pseudo := strings.HasSuffix(v, "+dirty") || rev != "" && strings.HasSuffix(v, "-"+rev)
	if v != "" && v != "(devel)" && !pseudo {
		return v
	}
	var detail []string
	for _, s := range []string{rev, at, modified} {
		if s != "" {
			detail = append(detail, s)
		}
	}
	if len(detail) == 0 {
		return "devel"
	}
	return "devel (" + strings.Join(detail, ", ") + ")"
}
