// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// retireOthers unloads every livepatch module other than keep, newest first.
// Before 5.1 the enabled ones lie below keep and can go only by a handover,
// done when handover is allowed; it returns how long keep was down.
func (s *System) retireOthers(ctx context.Context, t Timing, keep string, handover bool, progress func(Event)) ([]string, time.Duration, error) {
	var older []string
	for _, name := range s.livepatchModules() {
		if name != keep {
			older = append(older, name)
		}
	}
	retired, window, err := s.retireOlder(ctx, t, keep, handover, progress)
	if ctx.Err() == nil {
		return retired, window, err
	}
	retired, err = s.settleRetire(ctx, t, keep, older, retired, err, progress)
	return retired, window, err
}

func (s *System) retireOlder(ctx context.Context, t Timing, keep string, handover bool, progress func(Event)) ([]string, time.Duration, error) {
	var below []string
	if s.stackingEnforced() {
		for _, name := range s.livepatchModules() {
			if name != keep && s.patchEnabled(name) {
				below = append(below, name)
			}
		}
	}
	if len(below) == 0 {
		retired, err := s.unloadEach(ctx, t, keep, progress)
		return retired, 0, err
	}
	if !handover {
		return nil, 0, fmt.Errorf("%s lie below %s, and retiring them means disabling %s for a moment (allow the unpatched window to do that): %w",
			strings.Join(below, ", "), keep, keep, ErrStackingEnforced)
	}
	return s.handOver(ctx, t, keep, progress)
}

// unloadEach unloads every livepatch module but keep, newest first, and
// goes on past failures.
func (s *System) unloadEach(ctx context.Context, t Timing, keep string, progress func(Event)) ([]string, error) {
	var retired []string
	var errs []error
	for _, name := range s.livepatchModules() {
		if name == keep {
			continue
		}
		if err := s.unloadLocked(ctx, t, name, progress); err != nil {
			errs = append(errs, err)
			continue
		}
		retired = append(retired, name)
		progress(Event{Kind: EventRetired, Module: name})
	}
	return retired, errors.Join(errs...)
}

// handOver retires the patches below keep on a kernel before 5.1: disable
// keep (the topmost), unload the others newest first, then enable again
// whatever was enabled and is still there, oldest first, keep last. A
// patch that will not go stops the retiring and is enabled again, so that
// the stack ends as live as it began, minus what was retired. Bringing
// patches back runs even when ctx ends (each wait is still bounded by the
// timing): a cancelled handover must not leave the kernel unpatched.
func (s *System) handOver(ctx context.Context, t Timing, keep string, progress func(Event)) ([]string, time.Duration, error) {
	stack := s.livepatchModules() // newest first; keep is the newest
	restore := context.WithoutCancel(ctx)
	progress(Event{Kind: EventHandover, Module: keep})
	start := time.Now()
	if err := s.setEnabled(ctx, t, keep, false, progress); err != nil {
		// keep is half way down or still up: bring it back, retire nothing.
		rerr := s.setEnabled(restore, t, keep, true, progress)
		return nil, time.Since(start), errors.Join(fmt.Errorf("handover: disabling %s: %w", keep, err), rerr)
	}
	var retired []string
	var errs []error
	for _, name := range stack {
		if name == keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("handover stopped before retiring %s: %w", name, err))
			break
		}
		if err := s.unloadLocked(ctx, t, name, progress); err != nil {
			errs = append(errs, fmt.Errorf("handover: retiring %s: %w", name, err))
			break // those below it cannot be disabled while it is enabled
		}
		retired = append(retired, name)
		progress(Event{Kind: EventRetired, Module: name})
	}
	// Oldest first: the kernel enables a patch only above an enabled one.
	for i := len(stack) - 1; i >= 0; i-- {
		name := stack[i]
		if name == keep || !s.patchRegistered(name) || s.patchEnabled(name) {
			continue
		}
		if err := s.setEnabled(restore, t, name, true, progress); err != nil {
			errs = append(errs, fmt.Errorf("handover: enabling %s again: %w", name, err))
		}
	}
	if err := s.setEnabled(restore, t, keep, true, progress); err != nil {
		errs = append(errs, fmt.Errorf("handover: enabling %s again: %w", keep, err))
	}
	window := time.Since(start)
	progress(Event{Kind: EventHandoverDone, Module: keep, Elapsed: window})
	return retired, window, errors.Join(errs...)
}

// setEnabled writes enabled (or reverses name's transition toward it) and
// waits for the transition to end. On a stall the transition is left to the
// kernel, which goes on switching tasks, and the error names the tasks.
func (s *System) setEnabled(ctx context.Context, t Timing, name string, on bool, progress func(Event)) error {
	inTransition, _ := s.patchInTransition(name)
	if s.patchEnabled(name) != on || inTransition {
		kind, val := EventDisabling, "0"
		if on {
			kind, val = EventEnabling, "1"
		}
		if s.patchEnabled(name) != on {
			progress(Event{Kind: kind, Module: name})
			err := retryBusy(ctx, t, name, false, progress, func() error {
				if err := stopped(ctx, "write enabled="+val, name); err != nil {
					return err
				}
				return s.writeEnabled(name, on)
			})
			if err != nil {
				return &OpError{Op: "write enabled=" + val, Module: name, Kind: s.classifyLoad(err), Err: err}
			}
		}
		if _, tasks, err := s.waitTransition(ctx, t, name, on, false, progress); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return &StalledError{Patch: name, Tasks: tasks}
		}
	}
	if s.patchEnabled(name) != on {
		return fmt.Errorf("%s: enabled reads %t after the transition, want %t (changed by another tool?)", name, !on, on)
	}
	return nil
}
