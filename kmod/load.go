// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/klpkit/klpkit"
)

// LoadOptions tune Load. nil means defaults.
type LoadOptions struct {
	// Force skips kmod's checks (livepatch marker, vermagic); the kernel
	// still checks.
	Force bool
	// Params are module parameters ("" for none).
	Params string
	// Timing overrides retries and waits.
	Timing *Timing
	// RetireOlder unloads every other livepatch once this one is live and
	// its transition done: for cumulative patches loaded without atomic
	// replace. Newest first, so stacks unwind in order.
	//
	// Kernels before 5.1 (Photon 3.0's 4.19) disable only the topmost
	// patch, so the older ones can go only by a handover: the new patch is
	// disabled, the older ones are disabled and unloaded, and the new one
	// is enabled again. In between, the kernel runs without the new
	// patch's fixes, and for a moment without any: Load does that only
	// with AllowUnpatchedWindow. Without it Load leaves the older patches
	// live beneath the new one, where a cumulative patch overrides them,
	// and returns ErrStackingEnforced with the new patch live.
	RetireOlder bool
	// AllowUnpatchedWindow lets RetireOlder hand over on kernels before
	// 5.1 (see RetireOlder). LoadResult.Handover says how long the new
	// patch was down.
	AllowUnpatchedWindow bool
	// Progress receives reports (nil = none), in order and never
	// concurrently, on Load's goroutine: it should return quickly. Their
	// Detail is a kmod.Event.
	Progress klpkit.ProgressFunc
}

// LoadResult says what Load did.
type LoadResult struct {
	Module     *Module       `json:"module"`
	Transition time.Duration `json:"transition_ns"` // how long the transition took
	Retired    []string      `json:"retired"`       // patches unloaded by RetireOlder
	// Handover is how long the new patch was disabled while RetireOlder
	// handed over on a kernel before 5.1 (0: no handover).
	Handover time.Duration `json:"handover_ns"`
}

// Load loads a livepatch module file (plain, .gz, .xz or .zst), waits for
// its transition and returns once the patch is fully applied. On a
// transition that does not finish within the timing it reverts (disable,
// wait, unload) and returns a *StalledError naming the tasks that held it up.
// When ctx ends first, no further kernel call is made except those that
// revert a load under way, and the error is a *CancelledError wrapping
// ctx.Err() that says in which state the module was left.
func (s *System) Load(ctx context.Context, path string, opts *LoadOptions) (*LoadResult, error) {
	if opts == nil {
		opts = &LoadOptions{}
	}
	t := opts.Timing.WithDefaults()
	progress := s.reporter(klpkit.OpLoad, opts.Progress)
	m, err := ReadModule(path)
	if err != nil {
		return nil, err
	}
	if err := s.checkLoadable(m, opts.Force); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, s.loadCancelled(ctx, m.Name, err)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, s.loadCancelled(ctx, m.Name, err)
		}
		return nil, err
	}
	defer unlock()
	if err := s.clearStale(ctx, t, m.Name); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, s.loadCancelled(ctx, m.Name, err)
		}
		return nil, err
	}
	if err := s.checkAboveDisabled(m); err != nil {
		return nil, err
	}
	progress(Event{Kind: EventLoading, Module: m.Name, Path: path})
	err = retryBusy(ctx, t, m.Name, false, progress, func() error {
		err := s.insert(ctx, m)
		if errors.Is(err, syscall.EBUSY) {
			// A patch disabled during the retries (its transition
			// was the EBUSY) keeps the kernel saying EBUSY: stop.
			if serr := s.checkAboveDisabled(m); serr != nil {
				return serr
			}
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, s.loadCancelled(ctx, m.Name, err)
		}
		return nil, err
	}
	res := &LoadResult{Module: m}
	if !s.HasLivepatch() {
		return res, nil // forced onto a kernel without livepatch: nothing to wait for
	}
	elapsed, tasks, err := s.waitTransition(ctx, t, m.Name, true, false, progress)
	res.Transition = elapsed
	if err != nil {
		if ctx.Err() != nil {
			return nil, s.revertCancelled(ctx, t, m.Name, progress)
		}
		return nil, s.revert(ctx, t, m.Name, tasks, progress)
	}
	if m.Info.Livepatch && !s.patchEnabled(m.Name) {
		// Out of transition but not enabled: someone disabled it.
		return nil, fmt.Errorf("%s: the patch was disabled before its transition finished (by another tool?): the kernel is not patched",
			m.Name)
	}
	progress(Event{Kind: EventTransition, Module: m.Name, Elapsed: elapsed})
	if opts.RetireOlder {
		res.Retired, res.Handover, err = s.retireOthers(ctx, t, m.Name, opts.AllowUnpatchedWindow, progress)
		if err != nil {
			return res, fmt.Errorf("%s is live, but retiring older patches failed: %w", m.Name, err)
		}
	}
	return res, nil
}

// checkAboveDisabled refuses, before 5.1, a livepatch whose patch would
// go on top of a disabled one: the kernel enables it only above an
// enabled one.
func (s *System) checkAboveDisabled(m *Module) error {
	if !m.Info.Livepatch {
		return nil
	}
	if below := s.topDisabled(); below != "" {
		return fmt.Errorf("%s is loaded but disabled, and kernels before 5.1 enable a new patch only on top of an enabled one: unload %s first: %w",
			below, below, ErrStackingEnforced)
	}
	return nil
}

// checkLoadable refuses what the kernel would refuse, with a clearer error.
func (s *System) checkLoadable(m *Module, force bool) error {
	if force {
		return nil
	}
	if !m.Info.Livepatch {
		return fmt.Errorf("%s: %w (no livepatch=Y in .modinfo)", m.Path, ErrNotLivepatch)
	}
	if !s.HasLivepatch() {
		return ErrNoKernelLivepatch
	}
	rel, err := s.Release()
	if err != nil {
		return fmt.Errorf("kernel release: %w", err)
	}
	if m.Info.Release() != rel {
		return &VermagicError{Module: m.Path, Have: m.Info.Vermagic, Want: rel}
	}
	return nil
}

// clearStale removes a same-named module that is loaded but no longer a live
// patch (disabled or replaced), as kpatch does; a live one, or one still in
// transition, is ErrAlreadyLoaded.
func (s *System) clearStale(ctx context.Context, t Timing, name string) error {
	if !s.moduleLoaded(name) {
		return nil
	}
	if !s.patchInactive(name) {
		return &OpError{Op: "load", Module: name, Kind: ErrAlreadyLoaded, Err: syscall.EEXIST}
	}
	if !s.taintedLivepatch(name) {
		// Not a leftover livepatch but another module of the same name:
		// never remove it on the way.
		return &OpError{Op: "load", Module: name, Kind: ErrAlreadyLoaded,
			Err: fmt.Errorf("a module named %s that is not a livepatch is loaded: %w", name, syscall.EEXIST)}
	}
	if err := s.waitRefcnt(ctx, t, name); err != nil {
		return &OpError{Op: "load", Module: name, Kind: ErrAlreadyLoaded, Err: err}
	}
	if err := stopped(ctx, "delete_module", name); err != nil {
		return err
	}
	if err := s.kernel().DeleteModule(name, DeleteNonblock); err != nil && !errors.Is(err, syscall.ENOENT) {
		return &OpError{Op: "delete_module", Module: name, Kind: ErrAlreadyLoaded, Err: err}
	}
	return nil
}

// insert does one load attempt: finit_module on the file (asking the kernel
// to decompress when it can), init_module on the image when finit_module is
// missing or the kernel cannot decompress.
func (s *System) insert(ctx context.Context, m *Module) error {
	if err := stopped(ctx, "finit_module", m.Name); err != nil {
		return err
	}
	k := s.kernel()
	flags := 0
	if m.Compression != CompressNone {
		if !s.kernelDecompresses(m.Compression) {
			return s.initModule(ctx, m)
		}
		flags = ModuleInitCompressedFile
	}
	f, err := os.Open(m.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = k.FinitModule(f, "", flags)
	if errors.Is(err, syscall.ENOSYS) || (flags != 0 && (errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL))) {
		return s.initModule(ctx, m)
	}
	if err != nil {
		return &OpError{Op: "finit_module", Module: m.Name, Kind: s.classifyLoad(err), Err: err}
	}
	return nil
}

func (s *System) initModule(ctx context.Context, m *Module) error {
	if err := stopped(ctx, "init_module", m.Name); err != nil {
		return err
	}
	if err := s.kernel().InitModule(m.Image, ""); err != nil {
		return &OpError{Op: "init_module", Module: m.Name, Kind: s.classifyLoad(err), Err: err}
	}
	return nil
}

// revert undoes a load whose transition stalled: write 0 to enabled (which
// reverses the transition), wait for the patch to go, unload the module. It
// runs on settleContext because ctx may be what expired.
func (s *System) revert(ctx context.Context, t Timing, name string, tasks []Task, progress func(Event)) error {
	progress(Event{Kind: EventReverting, Module: name})
	ctx, rt, cancel := settleContext(ctx, t)
	defer cancel()
	serr := &StalledError{Patch: name, Tasks: tasks}
	if err := s.unloadLocked(ctx, rt, name, progress); err != nil {
		serr.RevertErr = err
		return serr
	}
	serr.Reverted = true
	return serr
}

// revertCancelled undoes a load whose ctx ended during its transition, on
// settleContext as revert does, and says what it left.
func (s *System) revertCancelled(ctx context.Context, t Timing, name string, progress func(Event)) error {
	ce := &CancelledError{Op: "load", Module: name, Err: ctx.Err()}
	rctx, rt, cancel := settleContext(ctx, t)
	defer cancel()
	if err := s.unloadLocked(rctx, rt, name, progress); err != nil {
		ce.Err = errors.Join(ce.Err, fmt.Errorf("reverting the load: %w", err))
		ce.State = s.describeState(name)
		ce.Next = "check the patch state (kpatch list) and unload it, or load it again"
		return s.leftAs(ce)
	}
	ce.State = "the load was reverted: " + name + " is not loaded"
	ce.Next = "load it again to apply the patch"
	return s.leftAs(ce)
}
