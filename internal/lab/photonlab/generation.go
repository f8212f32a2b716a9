// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/photon"
)

// Generation is the Photon release whose kernels a lab holds, named by
// its dist tag without the dot.
type Generation string

const (
	// PH5 is Photon 5.0: 6.1 kernels from the Debian 6.1 lab's source,
	// built with the host's gcc-12; generic and aws by default. The default.
	PH5 Generation = "ph5"
	// PH4 is Photon 4.0: 5.10 kernels from the Debian 5.10 lab's source
	// (bullseye's linux-source-5.10), built with bullseye's gcc-10 in that
	// lab's toolchain root; generic only by default. Its config fragment,
	// spec template and patches are in the assets' ph4 directory (5.10's
	// Kconfig and sources differ from 6.1's).
	PH4 Generation = "ph4"
)

// Generations are the Photon lab's generations, the default first.
var Generations = []Generation{PH5, PH4}

// ErrUnknownGeneration: a name that is none of Generations.
var ErrUnknownGeneration = errors.New("photonlab: unknown lab generation")

// ParseGeneration reads a generation: its dist tag ("ph4") or its Photon
// release ("4.0"); "" is the default (PH5).
func ParseGeneration(s string) (Generation, error) {
	if s == "" {
		return PH5, nil
	}
	for _, g := range Generations {
		if s == string(g) || s == g.PhotonRelease() {
			return g, nil
		}
	}
	return "", fmt.Errorf("%w %q (ph5 or 5.0, ph4 or 4.0)", ErrUnknownGeneration, s)
}

// PhotonRelease is the generation's Photon release, "5.0" for ph5.
func (g Generation) PhotonRelease() string { return strings.TrimPrefix(string(g), "ph") + ".0" }

// Debian is the Debian lab whose kernel source the generation builds
// from, and whose compiler (and toolchain root) builds it.
func (g Generation) Debian() lab.Generation {
	if g == PH4 {
		return lab.Bullseye510
	}
	return lab.Bookworm61
}

// assets is where the generation's config fragments, spec template and
// patches are inside the assets directory: the directory itself for ph5
// (the first lab's layout), a subdirectory named after the others.
func (g Generation) assets(dir string) string {
	if g == "" || g == PH5 {
		return dir
	}
	return filepath.Join(dir, string(g))
}

// defaultFlavors are the flavors built when Config.Flavors is empty.
func (g Generation) defaultFlavors() []photon.Flavor {
	if g == PH4 {
		return []photon.Flavor{photon.Generic}
	}
	return []photon.Flavor{photon.Generic, photon.AWS}
}

// owns reports whether a lab kernel belongs to g.
func (g Generation) owns(k photon.Kernel) bool { return k.Release().DistTag() == "."+string(g) }

// OpenGeneration returns the newest complete Photon lab of generation g
// under labDir, or an error wrapping ErrNotPrepared.
func OpenGeneration(labDir string, g Generation) (*Lab, error) {
	if !slices.Contains(Generations, g) {
		return nil, fmt.Errorf("%w %q", ErrUnknownGeneration, g)
	}
	return openNewest(labDir, g.owns)
}

// kbuild runs make against a lab kernel's tree with the generation's
// compiler: on the host with gcc-12 (ph5), or in the Debian lab's
// toolchain root with its gcc (ph4).
type kbuild interface {
	make(ctx context.Context, dir string, out io.Writer, args ...string) error
}

// hostKbuild runs the host's make with gcc-12.
type hostKbuild struct {
	r    *runner
	prog string
}

func (h hostKbuild) make(ctx context.Context, dir string, out io.Writer, args ...string) error {
	return h.r.run(ctx, dir, out, h.prog, append(append([]string(nil), kbuildTools...), args...)...)
}

// rootKbuild runs make in a Debian lab's toolchain root, with binds (the
// Photon lab's directory: tree and build directories) bound in.
type rootKbuild struct {
	deb   *lab.Lab
	binds []string
}

func (k rootKbuild) make(ctx context.Context, dir string, out io.Writer, args ...string) error {
	return k.deb.CompilerMake(ctx, dir, k.binds, out, args...)
}

// kbuildOutput runs make and returns what it printed.
func kbuildOutput(ctx context.Context, k kbuild, dir string, args ...string) (string, error) {
	var out bytes.Buffer
	err := k.make(ctx, dir, &out, args...)
	return out.String(), err
}

// assets is the preparer's generation's assets directory.
func (p *preparer) assets() string { return p.cfg.Generation.assets(p.cfg.Assets) }

// buildSeed is what a kernel build's digest adds to its config's: the
// toolchain root of a generation built in one (its directory names its
// package list), so that another compiler rebuilds. The 5.0 lab's digest
// is what it was before there were generations.
func (p *preparer) buildSeed() string {
	if p.debLab == nil || p.debLab.ToolchainRoot == "" {
		return " build"
	}
	return " build in " + filepath.Base(p.debLab.ToolchainRoot)
}

// fetchSource downloads Debian's source tarball into dir: with the host's
// apt for the 6.1 source, from bullseye's signed indexes (package lab) for
// 5.10, which the host's apt does not know.
func (p *preparer) fetchSource(ctx context.Context, dir string) (string, error) {
	if p.debLab != nil && p.debLab.Generation == lab.Bullseye510 {
		return lab.FetchSource(ctx, p.debLab, dir, p.log)
	}
	return p.deb.fetch(ctx, p.run, dir)
}
