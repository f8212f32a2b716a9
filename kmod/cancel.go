// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// CancelledError is a load or unload stopped because its context ended
// (Ctrl-C, a caller's deadline). It says in which state the module was
// left, read back from sysfs, and what to do next. It wraps the context's
// error, so errors.Is(err, context.Canceled) holds; it never matches
// ErrTransitionStalled, which is kept for transitions that really stalled.
type CancelledError struct {
	Op     string `json:"op"` // "load", "unload" or "retire" (Load's RetireOlder)
	Module string `json:"module"`
	// State is the module's state afterwards, as a sentence
	// ("a is not loaded", "a is enabled again and loaded").
	State string `json:"state"`
	// Next is what to do now ("" when nothing is needed).
	Next string `json:"next"`
	// Loaded says whether Module is still loaded afterwards (read back
	// from the kernel): callers branch on it, never on State's words.
	Loaded bool `json:"loaded"`
	// Left, for a cancelled retire (Op "retire", Module the new patch),
	// names the older patches still loaded, newest first.
	Left []string `json:"left"`
	// Err is the context's error, joined with whatever failed while
	// settling the module after it.
	Err error `json:"err"`
}

func (e *CancelledError) Error() string {
	what := e.Op + " of " + e.Module
	if e.Op == "retire" {
		what = "retiring the patches older than " + e.Module
	}
	msg := fmt.Sprintf("%s cancelled (%v): %s", what, e.Err, e.State)
	if e.Next != "" {
		msg += "; " + e.Next
	}
	return msg
}

// Unwrap returns the context's error (and any settling failure).
func (e *CancelledError) Unwrap() error { return e.Err }

// stopped returns, when ctx is done, an error saying which kernel call it
// kept kmod from making. Every kernel call checks it first.
func stopped(ctx context.Context, call, module string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s not attempted: %w", call, module, err)
	}
	return nil
}

// describeState says what sysfs shows of module name, as a sentence.
func (s *System) describeState(name string) string {
	lp, err := s.Livepatch(name)
	loaded := s.moduleLoaded(name)
	switch {
	case err != nil && !loaded:
		return name + " is not loaded"
	case err != nil:
		return name + " is loaded but patches nothing (disabled or replaced)"
	case lp.Enabled && lp.Transition:
		return name + " is loaded and enabled, still in transition to patched"
	case lp.Enabled:
		return name + " is loaded and enabled"
	case lp.Transition:
		return name + " is loaded and being disabled (in transition)"
	}
	return name + " is loaded but disabled"
}

// loadCancelled is the error of a load stopped by ctx before or while
// inserting the module: nothing is loaded unless sysfs says otherwise.
func (s *System) loadCancelled(ctx context.Context, name string, err error) error {
	ce := &CancelledError{Op: "load", Module: name, State: s.describeState(name), Err: err}
	if !errors.Is(err, ctx.Err()) {
		ce.Err = errors.Join(ctx.Err(), err)
	}
	if s.leftAs(ce).Loaded {
		return ce
	}
	ce.Next = "load it again to apply the patch"
	return ce
}

// settleUnload ends an unload whose ctx ended after the disable was
// written, so that the module is never left disabled but loaded, which
// kpatch list does not show. A patch still patching something (its
// transition to disabled under way) is enabled again: reversing is quick,
// as the tasks not yet switched still run the patched code. A patch already
// disabled, or one the kernel will not enable again once its disable has
// ended, is unloaded, since it no longer patches anything. Both run on
// settleContext. It returns nil when the unload was
// finished, else a *CancelledError with the state left.
func (s *System) settleUnload(ctx context.Context, t Timing, name string, progress func(Event)) error {
	cause := ctx.Err()
	bg, t, cancel := settleContext(ctx, t)
	defer cancel()
	ce := &CancelledError{Op: "unload", Module: name, Err: cause}
	if !s.patchInactive(name) {
		err := s.setEnabled(bg, t, name, true, progress)
		if err == nil {
			ce.State = name + " is enabled again and loaded"
			ce.Next = "unload it again to remove it"
			return s.leftAs(ce)
		}
		if !s.patchInactive(name) && !s.patchEnabled(name) {
			// The kernel would not take it back (or it stalled on the way)
			// and it is still on its way to disabled: let that end, then
			// unload it, since a disabled patch patches nothing.
			s.waitTransition(bg, t, name, false, true, progress)
		}
		if !s.patchInactive(name) {
			ce.Err = errors.Join(cause, fmt.Errorf("enabling %s again: %w", name, err))
			ce.State = s.describeState(name)
			ce.Next = "check the patch state (kpatch list) and unload it again"
			return s.leftAs(ce)
		}
		// The disable won the race: finish it.
	}
	if err := s.finishUnload(bg, t, name, progress); err != nil {
		ce.Err = errors.Join(cause, err)
		ce.State = s.describeState(name)
		ce.Next = "unload it again to remove the module"
		return s.leftAs(ce)
	}
	return nil
}

// settleContext is the context and timing of the work that leaves the
// kernel in a clean state after a stall or a cancel: reverting a load,
// enabling again or finishing an unload, finishing a retire. ctx ending
// does not end it; Timing.RevertTimeout bounds it as a whole, and each
// transition in it, so that Ctrl-C or a caller's deadline gets an answer
// within that bound. cancel releases the timer.
func settleContext(ctx context.Context, t Timing) (context.Context, Timing, context.CancelFunc) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.RevertTimeout)
	t.TransitionTimeout = min(t.TransitionTimeout, t.RevertTimeout)
	t.RefTimeout = min(t.RefTimeout, t.RevertTimeout)
	return sctx, t, cancel
}

// leftAs records in ce whether its module is still loaded, and returns it.
func (s *System) leftAs(ce *CancelledError) *CancelledError {
	ce.Loaded = s.moduleLoaded(ce.Module)
	return ce
}

// finishUnload waits for a disabled module's references to drop and
// removes it.
func (s *System) finishUnload(ctx context.Context, t Timing, name string, progress func(Event)) error {
	if !s.moduleLoaded(name) {
		return nil
	}
	if err := s.waitRefcnt(ctx, t, name); err != nil {
		return err
	}
	progress(Event{Kind: EventUnloading, Module: name})
	err := retryBusy(ctx, t, name, true, progress, func() error {
		if err := stopped(ctx, "delete_module", name); err != nil {
			return err
		}
		return s.kernel().DeleteModule(name, DeleteNonblock)
	})
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return &OpError{Op: "delete_module", Module: name, Kind: s.classifyLoad(err), Err: err}
	}
	return nil
}
