// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import "github.com/klpkit/klpkit/photon"

// Source is a prepared Photon kernel: what the build pipeline needs.
type Source struct {
	Kernel photon.Kernel
	// Dir holds everything Prepare made for this kernel (SOURCES/, BUILD/, debug/).
	Dir string
	// Tree is the patched kernel source tree (BUILD/linux-<version>).
	Tree string
	// Config is Tree/.config: the flavor's config from the source RPM with
	// CONFIG_LOCALVERSION set so that the build reports Kernel.String().
	Config string
	// Vmlinux is the kernel image with symbols and debug info from the
	// debuginfo RPM: the symbol table of the running kernel. "" when no
	// debuginfo RPM was given.
	Vmlinux string
	// ModuleSymvers is where Module.symvers will be: the source RPM has none,
	// so the pipeline's build of the original tree (make vmlinux modules, as
	// kpatch-build does) writes it here; with MODVERSIONS its CRCs must then
	// match the running kernel's, which the pipeline checks.
	ModuleSymvers string
	// Compiler is the GCC string from vmlinux's .comment ("" when unknown).
	Compiler string
	// SpecFile is the kernel spec inside Dir/SOURCES.
	SpecFile string
}
