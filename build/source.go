// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"

	"github.com/klpkit/klpkit/build/toolchain"
)

// Source yields the prepared kernel tree a build runs against, and says
// through Capabilities what else it knows and can do. A local tree is a
// *Tree; a Photon kernel fetched from its repository is a
// photonsource.Source.
//
// What a source knows is one method returning a struct rather than a
// method per capability or an optional interface per capability: Run
// asks, never guesses by type assertion, so a wrapper cannot drop a
// capability without a word (it forwards Capabilities or declares none);
// "can it build in full?" is a nil test that Check can ask without
// building; and a new capability is a new field, which leaves every Source
// written outside klpkit compiling and meaning what it meant.
type Source interface {
	// Tree returns the prepared tree. Run calls it once, after the checks
	// Capabilities.Release allows and before every other stage.
	Tree(ctx context.Context) (*Tree, error)
	// Capabilities says what the source knows beyond its tree and what it
	// can do on request. The zero value: nothing (a *Tree's).
	Capabilities() Capabilities
}

// Capabilities is what a Source knows of its kernel before its tree
// exists, and the work it can do for Run beyond yielding the tree. Every
// field is optional; the zero value claims nothing.
type Capabilities struct {
	// Release is the kernel's uname -r when the source knows it before
	// Tree (a Photon kernel is named before it is fetched). Run then
	// refuses what the release alone rules out, such as a replace module
	// for a kernel before 5.1, before any download or build.
	Release string
	// Livepatchable, when set, says whether the kernel can take
	// livepatches by what the source knows of it (a distribution's
	// support matrix): nil, or why not. Run's check stage refuses a
	// kernel it rejects (ErrNotLivepatchable wrapping its error), besides
	// checking the kernel's configuration as for any tree.
	Livepatchable func() error
	// BuildAll, when set, builds the tree in full (vmlinux and modules),
	// once. Run calls it after Tree when a patch changes a header and the
	// tree is not fully built: only a full build records every object
	// that includes the header. Check never calls it: it names the
	// headers whose users the full build would find.
	BuildAll func(ctx context.Context) error
	// ModuleDebugDir, when set, gives the kernel's module debug files
	// (.ko.debug files, or unstripped .ko, under the directory it
	// returns) on demand: Run asks for them only when a header changes in
	// a kernel with modules, to find the header's users among the
	// modules' units without building the kernel. The directory must hold
	// a file for every module the kernel has, as a distribution's
	// debuginfo package does: Run checks it against a modules.order there
	// or in the tree and against Module.symvers, and otherwise takes it
	// as complete.
	ModuleDebugDir func(ctx context.Context) (string, error)
	// Toolchain, when set, provisions a toolchain root holding the
	// compiler whose identification it is given (the kernel's), from the
	// kernel's own distribution, keeping roots under cacheDir. Run's
	// ToolchainAuto calls it, instead of going to Debian's archive, when
	// the host's compiler is not the kernel's: a Photon kernel's gcc comes
	// from its Photon release's repositories (build/photontoolchain).
	Toolchain func(ctx context.Context, compiler, cacheDir string) (*toolchain.Root, error)
	// ToolchainPlan, when set beside Toolchain, names the root Toolchain
	// would return without provisioning it: its packages (from the
	// repositories' metadata; no package is downloaded), its directory
	// under cacheDir and whether it is there. Check calls it instead of
	// Toolchain; without it, Check's plan names only the compiler.
	ToolchainPlan func(ctx context.Context, compiler, cacheDir string) (*ToolchainPlan, error)
}

// Tree returns t itself: a *Tree is a Source.
func (t *Tree) Tree(context.Context) (*Tree, error) { return t, nil }

// Capabilities of a local tree: none beyond the tree (its Release is read
// from the tree, which Tree yields at no cost).
func (t *Tree) Capabilities() Capabilities { return Capabilities{} }
