// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Generation is a lab kernel generation: which Debian release's kernel a
// lab holds.
type Generation string

const (
	// Bookworm61 is Debian 12's 6.1 kernel, built with gcc-12, the host's
	// own compiler: the default lab.
	Bookworm61 Generation = "6.1"
	// Bullseye510 is Debian 11's 5.10 kernel, built with gcc-10, which a
	// bookworm host cannot install: its headers are in, and its kbuild runs
	// in, a bullseye toolchain root (package build/toolchain).
	Bullseye510 Generation = "5.10"
)

// Generations are the lab's kernel generations, the default first.
var Generations = []Generation{Bookworm61, Bullseye510}

// ErrUnknownGeneration: a name that is none of Generations.
var ErrUnknownGeneration = errors.New("lab: unknown kernel generation")

// ParseGeneration reads a generation's name ("6.1", "5.10"); "" is the
// default.
func ParseGeneration(s string) (Generation, error) {
	if s == "" {
		return Bookworm61, nil
	}
	for _, g := range Generations {
		if string(g) == s {
			return g, nil
		}
	}
	names := make([]string, len(Generations))
	for i, g := range Generations {
		names[i] = string(g)
	}
	return "", fmt.Errorf("%w %q (one of %s)", ErrUnknownGeneration, s, strings.Join(names, ", "))
}

// Dir is where the lab of generation g lives in the lab directory labDir:
// labDir itself for 6.1 (where the one lab was before there were two), a
// subdirectory named after the generation for the others.
func (g Generation) Dir(labDir string) string {
	if g == "" || g == Bookworm61 {
		return labDir
	}
	return filepath.Join(labDir, string(g))
}

// major.minor of a release: the generation a Debian kernel ABI belongs to.
func (g Generation) owns(release string) bool {
	if g == "" {
		g = Bookworm61
	}
	return strings.HasPrefix(release, string(g)+".")
}
