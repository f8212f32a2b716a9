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

// slowKernel makes every transition take about 300ms, so that a test can
// cancel in the middle of one.
var slowKernel = &kmodtest.Config{Tick: 10 * time.Millisecond, TransitionTicks: 30}

// A load whose context is already done makes no kernel call at all.
func TestLoadCancelledBeforeStartCallsNothing(t *testing.T) {
	e := newEnv(t, nil)
	path := e.module(t, "a.ko", "a")
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err := e.sys.Load(c, path, loadOpts(nil))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, kmod.ErrTransitionStalled)
	assert.Empty(t, e.k.Calls(), "no finit_module, no init_module")
	assert.Empty(t, e.k.Loaded())
	assert.Contains(t, err.Error(), "a is not loaded")
}

// Cancelled while waiting for its transition, a load is reverted and says
// so: a cancellation, not a stall.
func TestLoadCancelledDuringTransitionReverts(t *testing.T) {
	e := newEnv(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var events []kmod.Event
	o := loadOpts(&events)
	progress := o.Progress
	o.Progress = func(p klpkit.Progress) {
		progress(p)
		if p.Step == kmod.EventWaiting.String() {
			cancel()
		}
	}
	_, err := e.sys.Load(c, e.module(t, "a.ko", "a"), o)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, kmod.ErrTransitionStalled)
	var ce *kmod.CancelledError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "load", ce.Op)
	assert.NotContains(t, err.Error(), "stalled")
	assert.Contains(t, err.Error(), "reverted")
	assert.Contains(t, err.Error(), "a is not loaded")
	assert.NotContains(t, kinds(events), kmod.EventStalled)
	assert.Empty(t, e.k.Loaded())
	assert.Empty(t, e.k.Patches())
}

// An unload cancelled before it starts changes nothing and says so.
func TestUnloadCancelledBeforeStartChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	before := len(e.k.Calls())
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err = e.sys.Unload(c, "a", unloadOpts(nil))
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, e.k.Calls(), before, "no kernel call")
	assert.Contains(t, err.Error(), "a is loaded and enabled")
	lp, lerr := e.sys.Livepatch("a")
	require.NoError(t, lerr)
	assert.True(t, lp.Enabled)
}

// Ctrl-C while a patch is on its way to disabled reverses the transition:
// the patch ends enabled and loaded (still in `kpatch list`), and the error
// says so and what to run next.
func TestUnloadCancelledDuringTransitionReenables(t *testing.T) {
	e := newEnv(t, slowKernel)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var events []kmod.Event
	o := unloadOpts(&events)
	progress := o.Progress
	o.Progress = func(p klpkit.Progress) {
		progress(p)
		if p.Step == kmod.EventWaiting.String() {
			cancel()
		}
	}
	_, err = e.sys.Unload(c, "a", o)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, kmod.ErrTransitionStalled)
	var ce *kmod.CancelledError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "unload", ce.Op)
	assert.Contains(t, err.Error(), "a is enabled again and loaded")
	assert.Contains(t, err.Error(), "unload it again")
	assert.NotContains(t, kinds(events), kmod.EventStalled)
	lp, lerr := e.sys.Livepatch("a")
	require.NoError(t, lerr)
	assert.True(t, lp.Enabled && !lp.Transition, "enabled, transition over")
	assert.Equal(t, []string{"a"}, e.k.Loaded())
	l, lerr := e.sys.List()
	require.NoError(t, lerr)
	require.Len(t, l.Loaded, 1, "still listed")
}

// Ctrl-C once the patch is disabled finishes the unload: the module no
// longer patches anything, and leaving it loaded would hide it from
// `kpatch list`.
func TestUnloadCancelledAfterDisableFinishes(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	e.k.Fail("delete", syscall.EBUSY, 1)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := unloadOpts(nil)
	o.Timing.BusyInterval = time.Hour
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventBusyRetry {
			cancel()
		}
	})
	_, err = e.sys.Unload(c, "a", o)
	require.NoError(t, err, "finished")
	assert.Empty(t, e.k.Loaded())
	assert.Empty(t, e.k.Patches())
}

// UnloadAll cancelled part way finishes the module it is on and leaves
// the rest as they were.
func TestUnloadAllCancelledStopsBeforeTheNext(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"p1", "p2"} {
		_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
		require.NoError(t, err)
	}
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := unloadOpts(nil)
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventUnloading {
			cancel() // while p2 goes
		}
	})
	done, err := e.sys.UnloadAll(c, o)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"p2"}, done, "p2 finished")
	assert.Equal(t, []string{"p1"}, e.k.Loaded(), "p1 untouched")
	assert.Contains(t, err.Error(), "p1 is loaded and enabled")
}
