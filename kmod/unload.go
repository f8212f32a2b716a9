// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpkit/klpkit"
)

// UnloadOptions tune Unload and UnloadAll. nil means defaults.
type UnloadOptions struct {
	Timing *Timing
	// Progress receives reports (nil = none), in order and never
	// concurrently, on the caller's goroutine: it should return quickly.
	// Their Detail is a kmod.Event.
	Progress klpkit.ProgressFunc
	// AnyModule lets Unload remove a module that is not a livepatch. By
	// default such a module is refused (ErrNotLivepatch), so that a typo
	// or a name clash cannot unload a driver in use.
	AnyModule bool
}

func (s *System) unloadParts(o *UnloadOptions) (Timing, func(Event)) {
	if o == nil {
		return (*Timing)(nil).WithDefaults(), s.reporter(klpkit.OpUnload, nil)
	}
	return o.Timing.WithDefaults(), s.reporter(klpkit.OpUnload, o.Progress)
}

// ResolveName turns what a user typed into the in-kernel module name: a
// path to a module file gives the name inside the file
// (.gnu.linkonce.this_module); a name is taken without directory and
// extension, with '-' spelt '_'.
func ResolveName(target string) (string, error) {
	if strings.ContainsRune(target, '/') || strings.Contains(target, ".ko") {
		if fileExists(target) {
			m, err := ReadModule(target)
			if err != nil {
				return "", err
			}
			return m.Name, nil
		}
		if strings.ContainsRune(target, '/') {
			return "", fmt.Errorf("%s: no such module file", target)
		}
	}
	name := filepath.Base(target)
	if base, ok := moduleFileBase(name); ok {
		name = base
	}
	return ModuleName(name), nil
}

// Unload disables a livepatch module, waits for its transition to end, its
// sysfs directory to go and its reference count to reach 0, then removes it.
// target is a module name in either spelling or a path to its file. A
// replaced patch (no sysfs directory left) is removed without the disable
// step. It returns the in-kernel name.
func (s *System) Unload(ctx context.Context, target string, opts *UnloadOptions) (string, error) {
	t, progress := s.unloadParts(opts)
	name, err := ResolveName(target)
	if err != nil {
		return "", err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return name, err
	}
	defer unlock()
	if (opts == nil || !opts.AnyModule) && s.moduleLoaded(name) &&
		!s.patchRegistered(name) && !s.taintedLivepatch(name) {
		return name, fmt.Errorf("%s is loaded but is not a livepatch module (no livepatch taint in %s): %w; remove it with rmmod if that is meant",
			name, s.taintFile(name), ErrNotLivepatch)
	}
	return name, s.unloadLocked(ctx, t, name, progress)
}

func (s *System) unloadLocked(ctx context.Context, t Timing, name string, progress func(Event)) error {
	hasDir := s.patchRegistered(name)
	if !hasDir && !s.moduleLoaded(name) {
		return fmt.Errorf("%s: %w", name, ErrNotLoaded)
	}
	if err := ctx.Err(); err != nil {
		return s.unloadUnchanged(name, err)
	}
	if hasDir {
		if s.patchEnabled(name) {
			if above := s.newerPatch(name); above != "" && s.stackingEnforced() {
				return fmt.Errorf("%s lies below %s: %w", name, above, ErrStackingEnforced)
			}
			progress(Event{Kind: EventDisabling, Module: name})
			err := retryBusy(ctx, t, name, false, progress, func() error {
				if err := stopped(ctx, "disable", name); err != nil {
					return err
				}
				return s.writeEnabled(name, false)
			})
			if cerr := ctx.Err(); cerr != nil {
				if tr, _ := s.patchInTransition(name); s.patchEnabled(name) && !tr {
					return s.unloadUnchanged(name, cerr) // the disable never happened
				}
				return s.settleUnload(ctx, t, name, progress)
			}
			if err != nil && s.patchRegistered(name) {
				return &OpError{Op: "disable", Module: name, Kind: s.classifyLoad(err), Err: err}
			}
		}
		if _, tasks, err := s.waitTransition(ctx, t, name, false, true, progress); err != nil {
			if ctx.Err() != nil {
				return s.settleUnload(ctx, t, name, progress)
			}
			return &StalledError{Patch: name, Tasks: tasks}
		}
	}
	if err := s.finishUnload(ctx, t, name, progress); err != nil {
		if ctx.Err() != nil {
			return s.settleUnload(ctx, t, name, progress)
		}
		return err
	}
	return nil
}

// unloadUnchanged is the error of an unload stopped before it changed
// anything.
func (s *System) unloadUnchanged(name string, err error) error {
	return s.leftAs(&CancelledError{Op: "unload", Module: name, State: "nothing was changed: " + s.describeState(name),
		Next: "unload it again to remove it", Err: err})
}

// livepatchModules lists loaded livepatch modules newest first: the
// highest stack_order first where the kernel shows it, else /proc/modules
// order (the kernel lists the newest module first). Replaced patches,
// which have left sysfs but are still loaded (taint K), are included.
func (s *System) livepatchModules() []string {
	var names []string
	seen := map[string]bool{}
	mods, _ := s.Modules()
	for _, m := range mods {
		if m.Livepatch() || s.patchRegistered(m.Name) {
			names = append(names, m.Name)
			seen[m.Name] = true
		}
	}
	lps, _ := s.Livepatches()
	order := map[string]int{}
	for _, lp := range lps {
		if !seen[lp.Name] {
			names = append(names, lp.Name)
		}
		order[lp.Name] = lp.StackOrder
	}
	sort.SliceStable(names, func(i, j int) bool { return order[names[i]] > order[names[j]] })
	return names
}

// UnloadAll unloads every livepatch module, newest first, in passes until a
// pass unloads nothing. It returns the names unloaded and an error joining
// the failures of the modules left.
func (s *System) UnloadAll(ctx context.Context, opts *UnloadOptions) ([]string, error) {
	t, progress := s.unloadParts(opts)
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var done []string
	for {
		var errs []error
		progressed := false
		for _, name := range s.livepatchModules() {
			if err := s.unloadLocked(ctx, t, name, progress); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, name)
			progressed = true
		}
		if len(errs) == 0 || !progressed || ctx.Err() != nil {
			return done, errors.Join(errs...)
		}
	}
}
