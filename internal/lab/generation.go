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
	// bookworm host cannot install: its kbuild runs in a bullseye toolchain
	// root (package build/toolchain) that holds its headers, and the lab
	// installs the same headers on the host as well, at Debian's paths
	// (/usr/src/linux-headers-5.10.0-N-amd64, its -common tree and
	// /usr/lib/linux-kbuild-5.10: hard links into the root, each tree
	// marked as the lab's), where the unprivileged build user reaches them.
	Bullseye510 Generation = "5.10"
	// Bookworm61RT is Debian 12's 6.1 kernel in the rt flavor (PREEMPT_RT,
	// release 6.1.0-N-rt-amd64), built with gcc-12 as Bookworm61, in the
	// subdirectory 6.1-rt. Its source tree is linux-source-6.1 with the rt
	// headers and Kconfig changes (see rt.go for what that tree is and is
	// not).
	Bookworm61RT Generation = "6.1-rt"
)

// Generations are the lab's kernel generations, the default first.
var Generations = []Generation{Bookworm61, Bullseye510}

// RTGenerations are the lab's rt kernels: a smoke subset of the VM tests
// runs on them, so they are apart from Generations, which every VM test
// that is not specific to one kernel runs on.
var RTGenerations = []Generation{Bookworm61RT}

// ErrUnknownGeneration: a name that is none of Generations.
var ErrUnknownGeneration = errors.New("lab: unknown kernel generation")

// ParseGeneration reads a generation's name ("6.1", "5.10"); "" is the
// default.
func ParseGeneration(s string) (Generation, error) {
	if s == "" {
		return Bookworm61, nil
	}
	all := append(append([]Generation(nil), Generations...), RTGenerations...)
	for _, g := range all {
		if string(g) == s {
			return g, nil
		}
	}
	names := make([]string, len(all))
	for i, g := range all {
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

// RT reports whether g is an rt (PREEMPT_RT) flavor.
func (g Generation) RT() bool { return strings.HasSuffix(string(g), rtSuffix) }

const rtSuffix = "-rt"

// flavor is the Debian kernel flavor of g's images: "rt-amd64" or "amd64".
func (g Generation) flavor() string {
	if g.RT() {
		return "rt-amd64"
	}
	return "amd64"
}

// major.minor and flavor of a release: the generation a Debian kernel ABI
// belongs to.
func (g Generation) owns(release string) bool {
	if g == "" {
		g = Bookworm61
	}
	line := strings.TrimSuffix(string(g), rtSuffix)
	m := releasePattern.FindStringSubmatch(release)
	return m != nil && strings.HasPrefix(release, line+".") && m[1] == g.flavor()
}
