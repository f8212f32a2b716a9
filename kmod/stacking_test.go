// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Photon 3.0's kernels: before 5.1, with that kernel's stacking rules.
const legacyRelease = "4.19.325-1.ph3"

func newLegacyEnv(t *testing.T) *env {
	return newEnv(t, &kmodtest.Config{Release: legacyRelease, Vermagic: legacyRelease + " SMP mod_unload modversions "})
}

func (e *env) legacyModule(t *testing.T, name string) string {
	t.Helper()
	p, err := kmodtest.WriteModule(e.dir, name+".ko", kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: legacyRelease + " SMP mod_unload modversions "})
	require.NoError(t, err)
	return p
}

func (e *env) loadLegacy(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := e.sys.Load(ctx(t), e.legacyModule(t, n), loadOpts(nil))
		require.NoError(t, err, n)
	}
}

// enabled reads each patch's state from sysfs the way List does.
func (e *env) enabled(t *testing.T) map[string]bool {
	t.Helper()
	lps, err := e.sys.Livepatches()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, lp := range lps {
		assert.False(t, lp.Transition, "%s still in transition", lp.Name)
		out[lp.Name] = lp.Enabled
	}
	return out
}

// waitDisabled waits for a disable written by hand to finish.
func (e *env) waitDisabled(t *testing.T, name string) {
	t.Helper()
	require.Eventually(t, func() bool {
		lp, err := e.sys.Livepatch(name)
		return err == nil && !lp.Enabled && !lp.Transition
	}, 5*time.Second, time.Millisecond)
}

// kmod says when the stack forbids an unload instead of retrying EBUSY, and
// UnloadAll's newest-first order works; no write the kernel would refuse is
// ever made.
func TestStackingEnforcedBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2")
	_, err := e.sys.Unload(ctx(t), "p1", unloadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrStackingEnforced)
	assert.Contains(t, err.Error(), "p1 lies below p2")
	assert.Equal(t, map[string]bool{"p1": true, "p2": true}, e.enabled(t), "nothing touched")

	done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"p2", "p1"}, done)
	assert.Empty(t, e.k.Loaded())
	assert.Empty(t, e.k.Patches(), "each module's exit unregistered its patch")
	assert.Empty(t, e.k.Rejected())
}

// Before 5.1 a disabled patch keeps its directory until its module goes:
// List shows it disabled, Unload removes it without a disable, and loading
// its file again replaces the stale module.
func TestDisabledPatchBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1")
	require.NoError(t, e.k.WriteAttr(e.sys.SysRoot+"/kernel/livepatch/p1/enabled", "0"))
	l, err := e.sys.List()
	require.NoError(t, err)
	require.Len(t, l.Loaded, 1)
	assert.False(t, l.Loaded[0].Enabled)
	e.waitDisabled(t, "p1")

	_, err = e.sys.Load(ctx(t), e.legacyModule(t, "p1"), loadOpts(nil))
	require.NoError(t, err, "the stale disabled module is removed first, as kpatch does")
	assert.Equal(t, map[string]bool{"p1": true}, e.enabled(t))

	require.NoError(t, e.k.WriteAttr(e.sys.SysRoot+"/kernel/livepatch/p1/enabled", "0"))
	var events []kmod.Event
	_, err = e.sys.Unload(ctx(t), "p1", unloadOpts(&events))
	require.NoError(t, err)
	assert.NotContains(t, kinds(events), kmod.EventDisabling)
	assert.Empty(t, e.k.Loaded())
	assert.Empty(t, e.k.Rejected())
}

// The kernel will not enable a new patch above a disabled one: Load says
// which patch is in the way instead of retrying EBUSY.
func TestLoadAboveDisabledBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1")
	require.NoError(t, e.k.WriteAttr(e.sys.SysRoot+"/kernel/livepatch/p1/enabled", "0"))
	e.waitDisabled(t, "p1")
	_, err := e.sys.Load(ctx(t), e.legacyModule(t, "p2"), loadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrStackingEnforced)
	assert.Contains(t, err.Error(), "p1 is loaded but disabled")
	assert.Contains(t, err.Error(), "unload p1 first")
	assert.Equal(t, []string{"p1"}, e.k.Loaded())
	assert.NotContains(t, e.k.Calls(), "finit_module p2.ko flags=0", "nothing was loaded")
}

// Without AllowUnpatchedWindow, RetireOlder leaves the older patches live
// beneath the new one and says why.
func TestRetireOlderRefusedBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2")
	o := loadOpts(nil)
	o.RetireOlder = true
	res, err := e.sys.Load(ctx(t), e.legacyModule(t, "cum"), o)
	require.ErrorIs(t, err, kmod.ErrStackingEnforced)
	assert.Contains(t, err.Error(), "p2, p1 lie below cum")
	require.NotNil(t, res, "the new patch is live")
	assert.Zero(t, res.Handover)
	assert.Equal(t, map[string]bool{"p1": true, "p2": true, "cum": true}, e.enabled(t))
}

// With AllowUnpatchedWindow, RetireOlder hands over: the new patch goes
// down, the older ones are retired newest first, the new one comes back.
func TestRetireOlderHandoverBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2")
	var events []kmod.Event
	o := loadOpts(&events)
	o.RetireOlder, o.AllowUnpatchedWindow = true, true
	res, err := e.sys.Load(ctx(t), e.legacyModule(t, "cum"), o)
	require.NoError(t, err)
	assert.Equal(t, []string{"p2", "p1"}, res.Retired)
	assert.Positive(t, res.Handover)
	assert.Equal(t, map[string]bool{"cum": true}, e.enabled(t))
	assert.Equal(t, []string{"cum"}, e.k.Loaded())
	assert.Empty(t, e.k.Rejected(), "every write kept to the stack rules")

	var steps []string
	for _, ev := range events {
		switch ev.Kind {
		case kmod.EventHandover, kmod.EventDisabling, kmod.EventUnloading, kmod.EventEnabling, kmod.EventHandoverDone:
			steps = append(steps, ev.Kind.String()+" "+ev.Module)
		}
	}
	assert.Equal(t, []string{"handover cum", "disabling cum", "disabling p2", "unloading p2", "disabling p1", "unloading p1",
		"enabling cum", "handover-done cum"}, steps)
}

// A patch that will not go stops the handover; it and the new patch are
// enabled again, so the stack is as live as before, minus what was retired.
func TestHandoverRestoresWhatStaysBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2", "p3")
	o := loadOpts(nil)
	o.RetireOlder, o.AllowUnpatchedWindow = true, true
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventRetired && ev.Module == "p3" {
			e.k.Fail("delete", syscall.EPERM, 1) // p2's delete_module
		}
	})
	res, err := e.sys.Load(ctx(t), e.legacyModule(t, "cum"), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "retiring p2")
	require.NotNil(t, res)
	assert.Equal(t, []string{"p3"}, res.Retired)
	assert.Equal(t, map[string]bool{"p1": true, "p2": true, "cum": true}, e.enabled(t))
	assert.Equal(t, []string{"p1", "p2", "cum"}, e.k.Patches())
	assert.Empty(t, e.k.Rejected())
}

// A stalled re-enable is left to the kernel, which goes on switching tasks
// to the new patch: reverting it would leave no fix at all.
func TestHandoverStalledReenableBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1")
	o := loadOpts(nil)
	o.Timing.TransitionTimeout = 100 * time.Millisecond
	o.RetireOlder, o.AllowUnpatchedWindow = true, true
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventEnabling {
			e.k.AddTask(kmodtest.Task{PID: 7, Comm: "sleeper", Stack: "[<0>] cmdline_proc_show+0x0/0x20", Stubborn: true})
		}
	})
	res, err := e.sys.Load(ctx(t), e.legacyModule(t, "cum"), o)
	require.ErrorIs(t, err, kmod.ErrTransitionStalled)
	assert.Contains(t, err.Error(), "enabling cum again")
	assert.Contains(t, err.Error(), "7 sleeper")
	assert.Equal(t, []string{"p1"}, res.Retired)
	lp, err := e.sys.Livepatch("cum")
	require.NoError(t, err)
	assert.True(t, lp.Enabled && lp.Transition, "cum stays on its way to patched")
}

// A handover cancelled half way (Ctrl-C) stops retiring but still brings
// the new patch back: it never leaves the kernel without the fix.
func TestHandoverCancelledBefore51(t *testing.T) {
	e := newLegacyEnv(t)
	e.loadLegacy(t, "p1", "p2")
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	o := loadOpts(nil)
	o.RetireOlder, o.AllowUnpatchedWindow = true, true
	o.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventRetired {
			cancel() // after p2 went, before p1
		}
	})
	res, err := e.sys.Load(c, e.legacyModule(t, "cum"), o)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Equal(t, []string{"p2"}, res.Retired)
	assert.Equal(t, map[string]bool{"p1": true, "cum": true}, e.enabled(t), "p1 and the new patch are live again")
	assert.Empty(t, e.k.Rejected())
}
