// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// settleRetire ends a retire whose ctx ended. Each older patch is either
// gone, or live, or it is unloaded here: one that is loaded but patches
// nothing (its disable ended while the retire was stopping) would be
// missing from kpatch list and hold its module for nothing. The unload
// runs on settleContext.
// It returns nil when every older patch went after all, else a
// *CancelledError (Op "retire") wrapping ctx.Err() that says what each
// patch was left as and what to run next.
func (s *System) settleRetire(ctx context.Context, t Timing, keep string, older, retired []string, rerr error, progress func(Event)) ([]string, error) {
	bg, t, cancel := settleContext(ctx, t)
	defer cancel()
	var left []string
	errs := []error{ctx.Err()}
	for _, name := range older {
		gone := !s.moduleLoaded(name) && !s.patchRegistered(name)
		if !gone && s.patchInactive(name) {
			if err := s.finishUnload(bg, t, name, progress); err != nil {
				errs = append(errs, err)
			} else {
				gone = true
			}
		}
		if !gone {
			left = append(left, name)
			continue
		}
		if !slices.Contains(retired, name) {
			retired = append(retired, name)
			progress(Event{Kind: EventRetired, Module: name})
		}
	}
	if len(left) == 0 {
		return retired, nil
	}
	errs = append(errs, otherThanCancel(rerr, ctx.Err())...)
	state := []string{s.describeState(keep)}
	for _, name := range older {
		if slices.Contains(retired, name) {
			state = append(state, name+" was unloaded")
		} else {
			state = append(state, s.describeState(name))
		}
	}
	return retired, s.leftAs(&CancelledError{Op: "retire", Module: keep, Left: left,
		State: strings.Join(state, ", "),
		Next:  "unload " + strings.Join(left, ", then ") + " to finish retiring the older patches",
		Err:   errors.Join(errs...)})
}

// otherThanCancel returns the failures joined in err that are not the
// cancellation itself: those the per-patch states do not already say.
func otherThanCancel(err, cause error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, otherThanCancel(e, cause)...)
		}
		return out
	}
	if errors.Is(err, cause) {
		return nil
	}
	return []error{err}
}
