// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// ErrNoRepo means Source.Repo is nil.
var ErrNoRepo = errors.New("photonsource: no repository given")

// Source is a Photon kernel as a build.Source. Kernel, Repo and Dir are
// required; every other zero value is a default.
type Source struct {
	// Kernel is the target kernel (photon.ParseKernel of its uname -r).
	Kernel photon.Kernel
	// Repo says where the source and debuginfo RPMs come from.
	Repo *kernelsrc.Repo
	// Dir holds prepared trees, one per kernel (kernelsrc.PrepareOptions.Dir).
	Dir string
	// Prepare tunes kernelsrc.Prepare; its Dir is replaced by Dir, and its
	// compiler check is skipped: build.Run checks the compiler it builds
	// with (Options.SkipCompilerCheck, Options.Toolchain).
	Prepare kernelsrc.PrepareOptions
	// ModuleSymvers is the kernel's Module.symvers, when known: the tree is
	// then only prepared, not built in full, and the file is copied into
	// the tree. When empty, Tree takes it from the kernel's devel RPM
	// (linux-devel, linux-aws-devel, ...) in Repo, fetched and verified as
	// the source and debuginfo RPMs are; only when Repo has no devel RPM
	// is the kernel built in full, after a warning (Warn).
	ModuleSymvers string
	// Jobs is make's -j; default the CPU count.
	Jobs int
	// MakeArgs are passed to every make run here and by the pipeline,
	// e.g. CC=gcc-12.
	MakeArgs []string
	// Make is the make program; default "make".
	Make string
	// BuildUser and BuildAsRoot say who runs make in the prepared tree
	// when the caller is root, as build.Options' fields of the same names
	// do for the pipeline: the tree, code from the source RPM, is given
	// to the build user (nil: build.DefaultBuildUser, nobody for a tree
	// Prepare made as root) before make runs.
	BuildUser   *build.BuildUser
	BuildAsRoot bool
	// Toolchain is where make runs in the tree: give build.Options'
	// Toolchain, so that the tree is made ready by the compiler the
	// livepatch is built with. In auto mode, when the host's compiler is
	// not the kernel's (vmlinux's .comment), make runs in a root of the
	// kernel's toolchain from its release's repositories, the one
	// build.Run then uses (Capabilities.Toolchain). The zero value is the
	// host.
	Toolchain build.Toolchain
	// DryRun makes Tree provision no toolchain root, for build.Check: when
	// make would run in a root the cache lacks, make is left out (the
	// tree is fetched and prepared from the source RPM, but kbuild has not
	// run in it) and Check names the root (Plan.Toolchain). A root the
	// cache holds is used as for a build. Such a tree is for Check only:
	// build it with a Source without DryRun.
	DryRun bool
	// Progress, if set, receives a report as each step starts (Op
	// klpkit.OpSource, Step a Step, no Detail), in order and never
	// concurrently, on Tree's goroutine.
	Progress klpkit.ProgressFunc
	// Warn, if set, receives warnings: the full build a missing devel RPM
	// forces, what it costs and how to avoid it. They go to Logger too.
	Warn func(string)
	// Logger receives commands and their output; nil: none.
	Logger *slog.Logger

	root      *toolchain.Root // where make runs; nil: the host
	noKbuild  bool            // DryRun left make out: its root is not provisioned
	tree      string          // the prepared tree, once Tree has run
	built     *build.Tree     // what Tree returned: later calls return it again
	as        *asuser.User
	symvers   string // the Module.symvers in use: ModuleSymvers or the devel RPM's
	debuginfo string // the debuginfo RPM, once Tree has run
	dir       string // the prepared kernel's directory (kernelsrc.Source.Dir)
}

// Release is the kernel's uname -r, known before anything is fetched.
func (s *Source) Release() string { return s.Kernel.String() }

// Capabilities tells build.Run what a Photon kernel's source knows and can
// do beyond its tree: its release and livepatch support before anything is
// fetched, the full build a changed header may need, and the modules'
// debug information from the debuginfo RPM.
func (s *Source) Capabilities() build.Capabilities {
	return build.Capabilities{
		Release:        s.Release(),
		Livepatchable:  s.Livepatchable,
		BuildAll:       s.BuildAll,
		ModuleDebugDir: s.ModuleDebugDir,
		Toolchain:      s.provideToolchain,
		ToolchainPlan:  s.planToolchain,
	}
}

// Step names what Tree is doing, for Progress.
type Step string

// The steps of Tree, in order.
const (
	StepFetch   Step = "fetch"   // source, debuginfo and devel RPMs
	StepPrepare Step = "prepare" // kernelsrc.Prepare: %prep, .config, vmlinux
	StepKbuild  Step = "kbuild"  // make in the tree (once)
)

// Livepatchable tells build.Run whether the kernel can take livepatches.
func (s *Source) Livepatchable() error { return s.Kernel.Livepatchable() }

// Tree fetches, prepares and builds the kernel's tree (each step reused
// when an earlier run finished it) and describes it for the pipeline. It
// does so once: after a call that succeeded, Tree returns the same tree
// again without a step, so a caller that prepared the tree first (to
// report on it) can hand the Source to build.Run as it is. A new Source
// for the kernel redoes the checks, reusing what an earlier one left in
// the cache and Dir.
func (s *Source) Tree(ctx context.Context) (*build.Tree, error) {
	if s.built != nil {
		t := *s.built
		t.MakeArgs = append([]string(nil), t.MakeArgs...)
		return &t, nil
	}
	if s.Repo == nil {
		return nil, ErrNoRepo
	}
	if s.Dir == "" {
		return nil, errors.New("photonsource: Source.Dir is not set")
	}
	if err := s.Kernel.Livepatchable(); err != nil {
		return nil, err
	}
	k := s.Kernel
	s.progress(StepFetch, "fetching "+kernelsrc.SourcePackage.FileName(k))
	srpm, err := s.Repo.Fetch(ctx, k, kernelsrc.SourcePackage)
	if err != nil {
		return nil, err
	}
	s.progress(StepFetch, "fetching "+kernelsrc.DebuginfoPackage.FileName(k))
	debuginfo, err := s.Repo.Fetch(ctx, k, kernelsrc.DebuginfoPackage)
	if err != nil {
		return nil, err
	}
	devel, err := s.fetchDevel(ctx)
	if err != nil {
		return nil, err
	}
	s.progress(StepPrepare, "preparing the source tree of "+k.String())
	po := s.Prepare
	po.Dir = s.Dir
	if po.BuildUser == nil && !po.BuildAsRoot {
		// %prep's patch and xz run as the user make will.
		po.BuildUser, po.BuildAsRoot = s.BuildUser, s.BuildAsRoot
	}
	if po.CC == "" {
		po.CC = s.compiler()
	}
	// The compiler check is build.Run's, once, against the compiler it
	// chooses (the host's or a toolchain root's): Prepare only records
	// the kernel's.
	po.SkipCompilerCheck = true
	src, err := kernelsrc.Prepare(ctx, k, srpm, debuginfo, &po)
	if err != nil {
		return nil, err
	}
	mode := modeFull
	s.symvers = s.ModuleSymvers
	if s.symvers == "" && devel != "" {
		if s.symvers, err = s.develSymvers(ctx, devel, src.Dir); err != nil {
			return nil, err
		}
	}
	if s.symvers != "" {
		// Checked before the build, which it spares: the tree is then
		// only prepared.
		if _, err := os.Stat(s.symvers); err != nil {
			return nil, fmt.Errorf("photonsource: Module.symvers: %w", err)
		}
		mode = modePrepare
	} else {
		s.warnFullBuild(src.Config)
	}
	if err := s.giveTree(ctx, src.Tree); err != nil {
		return nil, err
	}
	if s.root, err = s.kbuildRoot(ctx, src.Compiler); err != nil {
		return nil, err
	}
	if !s.noKbuild {
		if err := s.kbuild(ctx, src.Tree, mode); err != nil {
			return nil, err
		}
	}
	if err := s.installSymvers(src.Tree); err != nil {
		return nil, err
	}
	s.tree, s.debuginfo, s.dir = src.Tree, debuginfo, src.Dir
	t := &build.Tree{
		Release:       k.String(),
		Dir:           src.Tree,
		Config:        src.Config,
		Vmlinux:       src.Vmlinux,
		ModuleSymvers: src.ModuleSymvers,
		MakeArgs:      append([]string(nil), s.MakeArgs...),
	}
	if s.symvers == "" {
		// The full build left the modules' .ko files in the tree.
		t.ModulesDir = src.Tree
	}
	built := *t
	built.MakeArgs = append([]string(nil), t.MakeArgs...)
	s.built = &built
	return t, nil
}

// BuildAll builds the tree Tree prepared in full (vmlinux and modules), once:
// build.Run asks for it when a patch changes a header, whose users only a
// full build records (build.Capabilities.BuildAll).
func (s *Source) BuildAll(ctx context.Context) error {
	if s.tree == "" {
		return errors.New("photonsource: BuildAll before Tree")
	}
	if err := s.kbuild(ctx, s.tree, modeFull); err != nil {
		return err
	}
	return s.installSymvers(s.tree)
}

// installSymvers copies the given Module.symvers into the tree, where the
// module's link (kbuild's modpost) reads it; a full build rewrites it.
func (s *Source) installSymvers(tree string) error {
	if s.symvers == "" {
		return nil
	}
	data, err := os.ReadFile(s.symvers)
	if err != nil {
		return fmt.Errorf("photonsource: Module.symvers: %w", err)
	}
	dst := filepath.Join(tree, "Module.symvers")
	if err := atomicfile.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("photonsource: %w", err)
	}
	// A full build's modpost rewrites it, as the build user.
	if err := asuser.Own(s.as, dst); err != nil {
		return fmt.Errorf("photonsource: %w", err)
	}
	return nil
}

func (s *Source) progress(step Step, msg string) {
	s.log().Info(msg, "step", step)
	if s.Progress != nil {
		s.Progress(klpkit.Progress{Op: klpkit.OpSource, Step: string(step), Message: msg})
	}
}

func (s *Source) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Source) jobs() int {
	if s.Jobs > 0 {
		return s.Jobs
	}
	return runtime.NumCPU()
}

// compiler is the CC the make arguments name, else gcc.
func (s *Source) compiler() string {
	cc := "gcc"
	for _, a := range s.MakeArgs {
		if len(a) > 3 && a[:3] == "CC=" {
			cc = a[3:]
		}
	}
	return cc
}

// markerFile records a finished kbuild step in the tree.
func markerFile(tree string) string { return filepath.Join(tree, ".klpkit-kbuild-done") }
