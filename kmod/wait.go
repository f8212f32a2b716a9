// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryBusy runs op until it stops failing with EBUSY (or EAGAIN when
// again is set), at most 1+BusyRetries times. When ctx ends the retries the
// error wraps both the last failure and ctx's error.
func retryBusy(ctx context.Context, t Timing, module string, again bool, progress func(Event), op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		busy := errors.Is(err, syscall.EBUSY) || (again && errors.Is(err, syscall.EAGAIN))
		if !busy || attempt > t.BusyRetries {
			return err
		}
		progress(Event{Kind: EventBusyRetry, Module: module, Attempt: attempt})
		if serr := sleep(ctx, t.BusyInterval); serr != nil {
			return fmt.Errorf("%w (stopped retrying: %w)", err, serr)
		}
	}
}

// waitTransition waits until patch name is out of transition or, with
// inactive set (after a disable), until it patches nothing (patchInactive).
// It signals stalled tasks once SignalAfter has passed where the kernel has
// the signal file. On timeout it returns the stalled tasks and
// ErrTransitionStalled; when ctx ends first, an error wrapping ctx.Err(),
// which is no stall.
func (s *System) waitTransition(parent context.Context, t Timing, name string, target, inactive bool, progress func(Event)) (time.Duration, []Task, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(parent, t.TransitionTimeout)
	defer cancel()
	signalled, announced := false, false
	for {
		done := false
		if inactive {
			done = s.patchInactive(name)
		} else {
			tr, ok := s.patchInTransition(name)
			done = !ok || !tr
		}
		if done {
			return time.Since(start), nil, nil
		}
		if !announced {
			progress(Event{Kind: EventWaiting, Module: name})
			announced = true
		}
		if !signalled && time.Since(start) >= t.SignalAfter {
			signalled = true
			if parent.Err() == nil { // no kernel call once cancelled
				switch has, err := s.writeSignal(name); {
				case !has:
					progress(Event{Kind: EventSignalled, Module: name, Automatic: true})
				case err == nil:
					progress(Event{Kind: EventSignalled, Module: name})
				}
			}
		}
		if err := sleep(ctx, s.poll()); err != nil {
			if perr := parent.Err(); perr != nil {
				return time.Since(start), nil, fmt.Errorf("%s: stopped waiting for the transition: %w", name, perr)
			}
			tasks := s.StalledTasks(target)
			progress(Event{Kind: EventStalled, Module: name, Tasks: tasks})
			return time.Since(start), tasks, fmt.Errorf("%s: %w", name, ErrTransitionStalled)
		}
	}
}

// waitRefcnt waits for /sys/module/<name>/refcnt to reach 0 (or the module
// to be gone).
func (s *System) waitRefcnt(ctx context.Context, t Timing, name string) error {
	ctx, cancel := context.WithTimeout(ctx, t.RefTimeout)
	defer cancel()
	for {
		n, err := s.refcnt(name)
		if n == 0 || (err != nil && !s.moduleLoaded(name)) {
			return nil
		}
		if serr := sleep(ctx, s.poll()); serr != nil {
			return fmt.Errorf("failed to unload module %s (refcnt %d; a forced patch can never be removed): %w", name, n, serr)
		}
	}
}
