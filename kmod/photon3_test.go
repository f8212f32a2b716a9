// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// photon3Releases are Photon 3.0 kernels of each livepatchable flavor:
// all 4.19, so all without atomic replace and with the topmost-only rule.
var photon3Releases = []string{"4.19.325-1.ph3", "4.19.325-1.ph3-aws", "4.19.247-rt108-10.ph3-rt"}

// TestPhoton3Paths runs every stack operation kmod offers against the fake
// kernel's pre-5.1 model, for each Photon 3.0 flavor: what happens, what
// the stack looks like after, and that no write the kernel would refuse
// was ever made (kmod knows the rules instead of retrying EBUSY).
func TestPhoton3Paths(t *testing.T) {
	type result struct {
		err     error
		retired []string
	}
	load := func(name string, retire, window bool) func(*env, *testing.T, string) result {
		return func(e *env, t *testing.T, rel string) result {
			o := loadOpts(nil)
			o.RetireOlder, o.AllowUnpatchedWindow = retire, window
			res, err := e.sys.Load(ctx(t), photon3Module(t, e, rel, name), o)
			if res == nil {
				return result{err: err}
			}
			return result{err: err, retired: res.Retired}
		}
	}
	unload := func(target string) func(*env, *testing.T, string) result {
		return func(e *env, t *testing.T, _ string) result {
			_, err := e.sys.Unload(ctx(t), target, unloadOpts(nil))
			return result{err: err}
		}
	}
	for _, tc := range []struct {
		name     string
		stack    []string // loaded in this order, bottom first
		disabled []string // then disabled by hand, in this order
		act      func(*env, *testing.T, string) result
		err      error  // sentinel, nil for success
		msg      string // in the error
		retired  []string
		after    map[string]bool // each registered patch: enabled
		loaded   []string        // modules, newest first
	}{
		{name: "load stacks on an enabled patch", stack: []string{"p1"}, act: load("p2", false, false),
			after: map[string]bool{"p1": true, "p2": true}, loaded: []string{"p2", "p1"}},
		{name: "load above a disabled patch", stack: []string{"p1"}, disabled: []string{"p1"}, act: load("p2", false, false),
			err: kmod.ErrStackingEnforced, msg: "p1 is loaded but disabled, and kernels before 5.1 enable a new patch only on top of an enabled one: unload p1 first",
			after: map[string]bool{"p1": false}, loaded: []string{"p1"}},
		{name: "load above a disabled patch over an enabled one", stack: []string{"p1", "p2"}, disabled: []string{"p2"}, act: load("p3", false, false),
			err: kmod.ErrStackingEnforced, msg: "p2 is loaded but disabled",
			after: map[string]bool{"p1": true, "p2": false}, loaded: []string{"p2", "p1"}},
		{name: "load the disabled patch's file again", stack: []string{"p1"}, disabled: []string{"p1"}, act: load("p1", false, false),
			after: map[string]bool{"p1": true}, loaded: []string{"p1"}},
		{name: "unload the topmost", stack: []string{"p1", "p2", "p3"}, act: unload("p3"),
			after: map[string]bool{"p1": true, "p2": true}, loaded: []string{"p2", "p1"}},
		{name: "unload the bottom one", stack: []string{"p1", "p2", "p3"}, act: unload("p1"),
			err: kmod.ErrStackingEnforced, msg: "p1 lies below p2",
			after: map[string]bool{"p1": true, "p2": true, "p3": true}, loaded: []string{"p3", "p2", "p1"}},
		{name: "unload the middle one", stack: []string{"p1", "p2", "p3"}, act: unload("p2"),
			err: kmod.ErrStackingEnforced, msg: "p2 lies below p3",
			after: map[string]bool{"p1": true, "p2": true, "p3": true}, loaded: []string{"p3", "p2", "p1"}},
		{name: "unload by file path below another", stack: []string{"p1", "p2"}, act: func(e *env, t *testing.T, _ string) result {
			_, err := e.sys.Unload(ctx(t), filepath.Join(e.dir, "p1.ko"), unloadOpts(nil))
			return result{err: err}
		}, err: kmod.ErrStackingEnforced, msg: "p1 lies below p2",
			after: map[string]bool{"p1": true, "p2": true}, loaded: []string{"p2", "p1"}},
		{name: "unload below a disabled patch", stack: []string{"p1", "p2"}, disabled: []string{"p2"}, act: unload("p1"),
			after: map[string]bool{"p2": false}, loaded: []string{"p2"}},
		{name: "unload a disabled topmost", stack: []string{"p1", "p2"}, disabled: []string{"p2"}, act: unload("p2"),
			after: map[string]bool{"p1": true}, loaded: []string{"p1"}},
		{name: "unload all, newest first", stack: []string{"p1", "p2", "p3"}, act: func(e *env, t *testing.T, _ string) result {
			done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
			return result{err: err, retired: done}
		}, retired: []string{"p3", "p2", "p1"}, after: map[string]bool{}},
		{name: "unload all with the top disabled", stack: []string{"p1", "p2"}, disabled: []string{"p2"}, act: func(e *env, t *testing.T, _ string) result {
			done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
			return result{err: err, retired: done}
		}, retired: []string{"p2", "p1"}, after: map[string]bool{}},
		{name: "retire older with nothing older", act: load("cum", true, false),
			after: map[string]bool{"cum": true}, loaded: []string{"cum"}},
		{name: "retire older without the window", stack: []string{"p1", "p2"}, act: load("cum", true, false),
			err: kmod.ErrStackingEnforced, msg: "p2, p1 lie below cum, and retiring them means disabling cum for a moment",
			after: map[string]bool{"p1": true, "p2": true, "cum": true}, loaded: []string{"cum", "p2", "p1"}},
		{name: "retire older with the window", stack: []string{"p1", "p2", "p3"}, act: load("cum", true, true),
			retired: []string{"p3", "p2", "p1"}, after: map[string]bool{"cum": true}, loaded: []string{"cum"}},
	} {
		for _, rel := range photon3Releases {
			t.Run(tc.name+"/"+rel, func(t *testing.T) {
				e := photon3Env(t, rel)
				for _, n := range tc.stack {
					_, err := e.sys.Load(ctx(t), photon3Module(t, e, rel, n), loadOpts(nil))
					require.NoError(t, err, n)
				}
				for _, n := range tc.disabled {
					require.NoError(t, e.k.WriteAttr(e.sys.SysRoot+"/kernel/livepatch/"+n+"/enabled", "0"), n)
					e.waitDisabled(t, n)
				}
				got := tc.act(e, t, rel)
				if tc.err == nil {
					require.NoError(t, got.err)
				} else {
					require.ErrorIs(t, got.err, tc.err)
					assert.Contains(t, got.err.Error(), tc.msg)
				}
				assert.Equal(t, tc.retired, got.retired)
				assert.Equal(t, tc.after, e.enabled(t))
				assert.Equal(t, tc.loaded, e.k.Loaded())
				assert.Empty(t, e.k.Rejected(), "kmod made a write the 4.19 kernel refuses")
			})
		}
	}
}

func photon3Env(t *testing.T, rel string) *env {
	return newEnv(t, &kmodtest.Config{Release: rel, Vermagic: photon3Vermagic(rel)})
}

func photon3Vermagic(rel string) string {
	extra := ""
	if strings.HasSuffix(rel, "-rt") {
		extra = "preempt "
	}
	return rel + " SMP " + extra + "mod_unload modversions "
}

func photon3Module(t *testing.T, e *env, rel, name string) string {
	t.Helper()
	p, err := kmodtest.WriteModule(e.dir, name+".ko", kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: photon3Vermagic(rel)})
	require.NoError(t, err)
	return p
}

// A patch disabled while a load waits out its transition (by another tool)
// ends up disabled below the new one: the kernel answers EBUSY for good, and
// Load says which patch is in the way instead of retrying to the end.
func TestLoadWhileBelowGoesDisabledBefore51(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{Release: legacyRelease, Vermagic: photon3Vermagic(legacyRelease), TransitionTicks: 30})
	e.loadLegacy(t, "p1")
	p2 := e.legacyModule(t, "p2")
	require.NoError(t, e.k.WriteAttr(e.sys.SysRoot+"/kernel/livepatch/p1/enabled", "0"))
	var events []kmod.Event
	o := loadOpts(&events)
	o.Timing.BusyRetries = 1000 // far longer than p1's transition
	_, err := e.sys.Load(ctx(t), p2, o)
	require.ErrorIs(t, err, kmod.ErrStackingEnforced)
	assert.Contains(t, err.Error(), "p1 is loaded but disabled")
	assert.Contains(t, kinds(events), kmod.EventBusyRetry, "the load met p1 in transition")
	assert.Less(t, len(events), 100, "it stopped retrying once p1 was disabled")
	assert.Equal(t, []string{"p1"}, e.k.Loaded())
}
