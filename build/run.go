// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/kver"
	"github.com/klpkit/klpkit/livepatch"
)

// Run builds a livepatch module from opts.Patches for the kernel
// opts.Source describes and writes it to opts.OutputDir/<name>.ko. The
// stages are those the package documentation describes (the Stage
// values): checks, patch, compile (only the translation units the patches
// touch, original and patched), diff, link and output. Cancelling ctx stops the running command and returns
// ctx.Err(); the tree's sources are never modified (patched files live in
// an overlay; see Tree.Dir for the one make run Run may do in the tree),
// and no partial .ko is written.
func Run(ctx context.Context, opts Options) (*Result, error) {
	r, err := newRun(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	res, err := r.run(ctx)
	if err != nil && opts.DebugDir != "" {
		if derr := r.exportDebug(err); derr != nil {
			r.log.Warn("debug export", "err", derr)
		}
	}
	return res, err
}

// runner holds one build's state.
type runner struct {
	opts    Options
	tree    Tree
	log     *slog.Logger
	work    string
	ownWork bool
	name    string
	config  kconfig
	cc      string // compiler identification, part of cache keys
	patches []*livepatch.Patch
	ov      *overlay
	objs    []*unit
	res     Result

	// version is the target's version when known (versionKnown).
	version      kver.Version
	versionKnown bool

	symvers symvers
	tables  map[string]*klp.SymbolTable
	// globals are the globals the patch objects define (moduleGlobals).
	globals map[string]moduleGlobal
	linkLog string

	// dryRun: Check, not Run; nothing is built (see patch).
	dryRun bool

	// as runs the tree's programs (nil: this process); kbuild runs make for
	// missing command files; userChecked: checkBuildUser passed.
	as          *asuser.User
	kbuild      *kbuildTree
	userChecked bool
	// root runs them inside a toolchain root (nil: on the host).
	root *rootEnv
	// toolchainPlan: the root a dry run found or would provision
	// (Plan.Toolchain).
	toolchainPlan *ToolchainPlan

	// headersNeedFullBuild: a dry run's changed headers, whose users Run
	// would find after building the tree in full.
	headersNeedFullBuild []string

	// oot is the out-of-tree module the patches change (Options.OOTModule).
	oot *ootBuild
}

func newRun(ctx context.Context, opts Options) (*runner, error) {
	if opts.Source == nil {
		return nil, fmt.Errorf("build: %w: Options.Source is required", ErrBadOptions)
	}
	if len(opts.Patches) == 0 {
		return nil, fmt.Errorf("build: %w: no patches given", ErrBadOptions)
	}
	// Before the Source's Tree, which may fetch and prepare a kernel.
	if err := checkOutputDir(opts.OutputDir); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if rel := opts.Source.Capabilities().Release; rel != "" {
		if err := checkReplaceRelease(rel, opts.NoReplace); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	t, err := opts.Source.Tree(ctx)
	if err != nil {
		return nil, fmt.Errorf("build: kernel source: %w", err)
	}
	if t == nil || t.Dir == "" || t.Release == "" {
		return nil, errors.New("build: the kernel tree needs Dir and Release")
	}
	r := &runner{opts: opts, tree: t.withDefaults(), log: opts.Logger}
	r.opts.Progress = serialProgress(opts.Progress)
	if err := checkReplace(&r.tree, opts.NoReplace); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	r.version, r.versionKnown = targetVersion(&r.tree)
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.opts.Jobs <= 0 {
		r.opts.Jobs = max(1, numCPU())
	}
	r.work = opts.WorkDir
	if r.work == "" {
		r.work, err = os.MkdirTemp("", "klpkit-build-")
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		r.ownWork = true
	} else if err := os.MkdirAll(r.work, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	name, err := livepatch.ModuleName(opts.Patches, strings.TrimSuffix(opts.Name, ".ko"))
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	r.name = name
	r.res.Name = name
	if opts.OOTModule != nil {
		if r.oot, err = newOOTBuild(opts.OOTModule); err != nil {
			r.cleanup()
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	if err := r.setupBuildUser(); err != nil {
		r.cleanup()
		return nil, err
	}
	return r, nil
}

func (r *runner) cleanup() {
	if r.ownWork && !r.opts.KeepWork {
		os.RemoveAll(r.work)
	}
}

func (r *runner) event(stage Stage, done, total int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.log.Info(msg, "stage", stage)
	if r.opts.Progress != nil {
		r.opts.Progress(Event{Stage: stage, Message: msg, Done: done, Total: total}.progress())
	}
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	for _, step := range []func(context.Context) error{r.check, r.patch, r.recordCommands, r.compile, r.checkExports, r.diff, r.link} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	res := r.res
	return &res, nil
}

// check: target, config and compiler.
func (r *runner) check(ctx context.Context) error {
	r.event(StageCheck, 0, 1, "checking kernel %s", r.tree.Release)
	if livepatchable := r.opts.Source.Capabilities().Livepatchable; livepatchable != nil {
		if err := livepatchable(); err != nil {
			return fmt.Errorf("kernel %s: %w: %w", r.tree.Release, ErrNotLivepatchable, err)
		}
	}
	c, err := readKconfig(r.tree.Config)
	if err != nil {
		return err
	}
	if err := checkConfig(c); err != nil {
		return fmt.Errorf("kernel %s: %w", r.tree.Release, err)
	}
	r.config = c
	if err := checkTreeMatches(&r.tree, c); err != nil {
		return err
	}
	// klpkit's own compiles run the real compiler, never through a wrapper.
	if r.tree.MakeArgs, err = realCCMakeArgs(r.tree.MakeArgs); err != nil {
		return fmt.Errorf("kernel %s: %w", r.tree.Release, err)
	}
	if r.tree.Vmlinux == "" && r.tree.SystemMap == "" {
		return fmt.Errorf("kernel %s: %w: need the vmlinux or System.map of the target kernel for symbol positions", r.tree.Release, ErrBadOptions)
	}
	if err := r.setupToolchain(ctx, c); err != nil {
		return err
	}
	switch {
	case r.unprovisioned():
		// A dry run's root Run would provision holds the kernel's
		// compiler by construction; Run checks it there.
		r.cc = r.toolchainPlan.Compiler
	case r.opts.SkipCompilerCheck:
		r.cc, err = localCompilerIn(ctx, r.root, r.tree.compiler())
	default:
		r.cc, err = checkCompilerIn(ctx, r.root, &r.tree, c)
	}
	if err != nil {
		return err
	}
	r.event(StageCheck, 1, 1, "kernel %s is livepatchable; compiler %s", r.tree.Release, r.cc)
	return nil
}

// patch: parse, validate and apply the patches to the overlay.
func (r *runner) patch(ctx context.Context) error {
	if r.oot != nil {
		return r.patchOOT(ctx)
	}
	r.event(StagePatch, 0, 1, "testing patch file(s)")
	if err := r.applyPatches(ctx, r.tree.Dir, nil); err != nil {
		return err
	}
	for _, p := range r.ov.inexact {
		r.res.Warnings = append(r.res.Warnings, p.String())
		r.event(StagePatch, 0, 1, "hunk placed inexactly: %s", p)
	}
	// The debug information names a header's users without a full build.
	changed, headerObjs, err := r.headersFromDebugInfo(ctx, r.ov.changed)
	if err != nil {
		return err
	}
	if buildAll := r.opts.Source.Capabilities().BuildAll; buildAll != nil && changesHeader(changed) && !fullyBuilt(r.tree.Dir) {
		if r.dryRun {
			// Check builds nothing: it names the headers whose users the
			// full build would find.
			changed, r.headersNeedFullBuild = splitHeaders(changed)
		} else {
			r.event(StagePatch, 0, 1, "a header changes: building the kernel in full once, to find every object that includes it")
			if err := buildAll(ctx); err != nil {
				return fmt.Errorf("building the kernel in full for a changed header: %w", err)
			}
		}
	}
	objs, warnings, err := touchedObjects(r.tree.Dir, changed, r.opts.PartialHeaderUsers, r.opts.maxHeaderUsers())
	if err != nil {
		return err
	}
	for _, o := range headerObjs {
		if !slices.Contains(objs, o) {
			objs = append(objs, o)
		}
	}
	r.res.Warnings = append(r.res.Warnings, warnings...)
	if len(objs) == 0 && len(r.headersNeedFullBuild) == 0 {
		return fmt.Errorf("the patches change no C source or header: %w", ErrNoChanges)
	}
	for _, o := range objs {
		r.objs = append(r.objs, &unit{obj: o})
	}
	r.event(StagePatch, 1, 1, "patches apply; %d object(s) to build", len(objs))
	return nil
}
