// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// noneDisabledButLoaded fails when a module is loaded but patches nothing
// and is not on its way to: such a module is missing from `kpatch list`.
// It waits for transitions under way to end first.
func (e *env) noneDisabledButLoaded(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		lps, err := e.sys.Livepatches()
		if err != nil {
			return false
		}
		for _, lp := range lps {
			if lp.Transition {
				return false
			}
		}
		return true
	}, 5*time.Second, time.Millisecond, "transitions end")
	for _, name := range e.k.Loaded() {
		lp, err := e.sys.Livepatch(name)
		assert.True(t, err == nil && lp.Enabled, "%s is loaded but patches nothing (%v)", name, err)
	}
}

// cancelOn returns load options that cancel when ev for module is
// reported, after running also (when not nil).
func cancelOn(cancel context.CancelFunc, kind kmod.EventKind, module string, also func()) *kmod.LoadOptions {
	o := loadOpts(nil)
	o.RetireOlder, o.AllowUnpatchedWindow = true, true
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kind && ev.Module == module {
			if also != nil {
				also()
			}
			cancel()
		}
	})
	return o
}

// Ctrl-C while an older patch is on its way to disabled, and the kernel
// refuses to enable it again: the retire waits for the disable to end and
// finishes the unload, instead of leaving it disabled but loaded.
func TestRetireCancelledReenableRefusedFinishes(t *testing.T) {
	e := newEnv(t, slowKernel)
	_, err := e.sys.Load(ctx(t), e.module(t, "p1.ko", "p1"), loadOpts(nil))
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := cancelOn(cancel, kmod.EventWaiting, "p1", func() { e.k.Fail("enable", syscall.EPERM, 1) })
	res, err := e.sys.Load(c, e.module(t, "cum.ko", "cum"), o)
	require.NoError(t, err, "the retire finished")
	assert.Equal(t, []string{"p1"}, res.Retired)
	assert.Equal(t, []string{"cum"}, e.k.Loaded())
	e.noneDisabledButLoaded(t)
}

// The same on a plain unload: the patch that cannot be enabled again is
// unloaded once its disable ends.
func TestUnloadCancelledReenableRefusedFinishes(t *testing.T) {
	e := newEnv(t, slowKernel)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := unloadOpts(nil)
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventWaiting {
			e.k.Fail("enable", syscall.EPERM, 1)
			cancel()
		}
	})
	_, err = e.sys.Unload(c, "a", o)
	require.NoError(t, err, "finished")
	assert.Empty(t, e.k.Loaded())
}

// A retire cancelled between two older patches leaves the second as it
// was, and the error wraps ctx.Err() and names what is left and what to
// run next.
func TestRetireCancelledSaysWhatIsLeft(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"p1", "p2"} {
		_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
		require.NoError(t, err)
	}
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	res, err := e.sys.Load(c, e.module(t, "cum.ko", "cum"), cancelOn(cancel, kmod.EventRetired, "p2", nil))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, kmod.ErrTransitionStalled)
	require.NotNil(t, res)
	assert.Equal(t, []string{"p2"}, res.Retired)
	var ce *kmod.CancelledError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "retire", ce.Op)
	assert.Equal(t, "cum", ce.Module)
	assert.Equal(t, []string{"p1"}, ce.Left)
	assert.Contains(t, err.Error(), "cum is loaded and enabled")
	assert.Contains(t, err.Error(), "p2 was unloaded")
	assert.Contains(t, err.Error(), "p1 is loaded and enabled")
	assert.Contains(t, err.Error(), "unload p1")
	assert.Equal(t, []string{"cum", "p1"}, e.k.Loaded())
	e.noneDisabledButLoaded(t)
}

// Before 5.1, a handover cancelled while the new patch goes down brings it
// back, retires nothing, and the error says so.
func TestHandoverCancelledWhileDisablingNewBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2")
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	res, err := e.sys.Load(c, e.legacyModule(t, "cum"), cancelOn(cancel, kmod.EventDisabling, "cum", nil))
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Empty(t, res.Retired)
	var ce *kmod.CancelledError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "retire", ce.Op)
	assert.Equal(t, []string{"p2", "p1"}, ce.Left)
	assert.Contains(t, err.Error(), "cum is loaded and enabled")
	assert.Contains(t, err.Error(), "unload p2, then p1")
	assert.Equal(t, map[string]bool{"p1": true, "p2": true, "cum": true}, e.enabled(t))
	e.noneDisabledButLoaded(t)
}

// All the settling after a cancel is bounded by RevertTimeout, not by the
// (longer) TransitionTimeout: Ctrl-C answers within it, and the error
// says the patch is still on its way back.
func TestSettleBoundedByRevertTimeout(t *testing.T) {
	// The reversal would take the fake kernel four seconds: far more than
	// the bound plus any scheduling delay of a loaded machine.
	e := newEnv(t, &kmodtest.Config{Tick: 10 * time.Millisecond, TransitionTicks: 400})
	lo := loadOpts(nil)
	lo.Timing.TransitionTimeout = time.Minute
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), lo)
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := unloadOpts(nil)
	o.Timing.RevertTimeout = 50 * time.Millisecond
	var cancelled time.Time
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventWaiting && cancelled.IsZero() {
			cancelled = time.Now()
			cancel()
		}
	})
	_, err = e.sys.Unload(c, "a", o)
	took := time.Since(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, took, 3*time.Second, "the settle is bounded by RevertTimeout")
	var ce *kmod.CancelledError
	require.ErrorAs(t, err, &ce)
	assert.True(t, ce.Loaded)
	assert.Contains(t, ce.State, "a is loaded and enabled, still in transition")
}
