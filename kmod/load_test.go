// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadPlain(t *testing.T) {
	e := newEnv(t, nil)
	path := e.module(t, "livepatch-test.ko", "livepatch_test")
	var events []kmod.Event
	res, err := e.sys.Load(ctx(t), path, loadOpts(&events))
	require.NoError(t, err)
	assert.Equal(t, "livepatch_test", res.Module.Name)
	assert.Equal(t, []string{"finit_module livepatch-test.ko flags=0"}, e.k.Calls())
	assert.Contains(t, kinds(events), kmod.EventTransition)

	lp, err := e.sys.Livepatch("livepatch_test")
	require.NoError(t, err)
	assert.True(t, lp.Enabled)
	assert.False(t, lp.Transition)
	require.Len(t, lp.Objects, 1)
	assert.Equal(t, "vmlinux", lp.Objects[0].Name)
	assert.Equal(t, []kmod.Function{{Name: "cmdline_proc_show", Sympos: 1}}, lp.Objects[0].Functions)
}

func TestLoadCompressed(t *testing.T) {
	for _, tc := range []struct {
		file, kernelCompression string
		wantCall                string
	}{
		{"p.ko.xz", "xz", "finit_module p.ko.xz flags=4"},
		{"p.ko.zst", "zstd", "finit_module p.ko.zst flags=4"},
		{"p.ko.gz", "gzip", "finit_module p.ko.gz flags=4"},
		{"p.ko.xz", "", "init_module"},    // no in-kernel decompression
		{"p.ko.zst", "xz", "init_module"}, // kernel decompresses another format
		{"p.ko.gz", "", "init_module"},    //
		{"renamed.ko", "", "init_module"}, // xz content, plain name: content decides
	} {
		t.Run(tc.file+"/"+tc.kernelCompression, func(t *testing.T) {
			e := newEnv(t, &kmodtest.Config{Compression: tc.kernelCompression})
			img := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "p", Livepatch: true})
			ext := tc.file
			if tc.file == "renamed.ko" {
				ext = "x.xz"
			}
			data, err := kmodtest.Compress(ext, img)
			require.NoError(t, err)
			path := filepath.Join(e.dir, tc.file)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			_, err = e.sys.Load(ctx(t), path, loadOpts(nil))
			require.NoError(t, err)
			calls := e.k.Calls()
			require.Len(t, calls, 1)
			assert.Contains(t, calls[0], tc.wantCall)
			assert.Equal(t, []string{"p"}, e.k.Patches())
		})
	}
}

func TestLoadFallsBackToInitModule(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{NoFinit: true})
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	calls := e.k.Calls()
	require.Len(t, calls, 2)
	assert.Contains(t, calls[1], "init_module")
}

func TestLoadBusyRetries(t *testing.T) {
	e := newEnv(t, nil)
	e.k.Fail("load", syscall.EBUSY, 4)
	var events []kmod.Event
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(&events))
	require.NoError(t, err, "the fifth attempt succeeds")
	assert.Len(t, e.k.Calls(), 5)
	retries := 0
	for _, ev := range events {
		if ev.Kind == kmod.EventBusyRetry {
			retries++
		}
	}
	assert.Equal(t, 4, retries)
}

func TestLoadBusyGivesUp(t *testing.T) {
	e := newEnv(t, nil)
	e.k.Fail("load", syscall.EBUSY, 5)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrBusy)
	require.ErrorIs(t, err, syscall.EBUSY)
	assert.Len(t, e.k.Calls(), 5, "kpatch's five attempts")
	assert.Empty(t, e.k.Loaded())
}

// A caller's deadline that ends the busy retries must show in the error,
// not only the last EBUSY: the caller asked to stop, the kernel did not
// refuse for good.
func TestLoadBusyStopsOnContext(t *testing.T) {
	e := newEnv(t, nil)
	e.k.Fail("load", syscall.EBUSY, 5)
	opts := loadOpts(nil)
	opts.Timing.BusyInterval = time.Hour
	c, cancel := context.WithTimeout(ctx(t), 50*time.Millisecond)
	defer cancel()
	_, err := e.sys.Load(c, e.module(t, "a.ko", "a"), opts)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, syscall.EBUSY)
	assert.Len(t, e.k.Calls(), 1)
}

func TestLoadRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   *kmodtest.Config
		spec  kmodtest.ModuleSpec
		force bool
		want  []error
	}{
		{"wrong vermagic", nil, kmodtest.ModuleSpec{Name: "a", Livepatch: true, Vermagic: "6.1.0-9-amd64 SMP preempt mod_unload modversions "}, false, []error{kmod.ErrVermagic}},
		{"wrong vermagic forced reaches the kernel", nil, kmodtest.ModuleSpec{Name: "a", Livepatch: true, Vermagic: "6.1.0-9-amd64 SMP "}, true, []error{syscall.ENOEXEC}},
		{"not a livepatch", nil, kmodtest.ModuleSpec{Name: "a"}, false, []error{kmod.ErrNotLivepatch}},
		{"kernel without livepatch", &kmodtest.Config{NoLivepatch: true}, kmodtest.ModuleSpec{Name: "a", Livepatch: true}, false, []error{kmod.ErrNoKernelLivepatch}},
		{"modules disabled", &kmodtest.Config{ModulesDisabled: true}, kmodtest.ModuleSpec{Name: "a", Livepatch: true}, false, []error{kmod.ErrModulesDisabled, syscall.EPERM}},
		{"lockdown", &kmodtest.Config{Lockdown: true}, kmodtest.ModuleSpec{Name: "a", Livepatch: true}, false, []error{kmod.ErrLockdown, syscall.EPERM}},
		{"signature required", &kmodtest.Config{SigEnforce: true}, kmodtest.ModuleSpec{Name: "a", Livepatch: true}, false, []error{kmod.ErrSignatureRequired, syscall.EKEYREJECTED}},
		{"signature required (4.19)", &kmodtest.Config{SigEnforce: true, Release: "4.19.325-1.ph3"}, kmodtest.ModuleSpec{Name: "a", Livepatch: true, Vermagic: "4.19.325-1.ph3 SMP mod_unload "}, false, []error{kmod.ErrSignatureRequired, syscall.ENOKEY}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			path, err := kmodtest.WriteModule(e.dir, "a.ko", tc.spec)
			require.NoError(t, err)
			o := loadOpts(nil)
			o.Force = tc.force
			_, err = e.sys.Load(ctx(t), path, o)
			for _, w := range tc.want {
				require.ErrorIs(t, err, w)
			}
			assert.Empty(t, e.k.Loaded())
		})
	}
}

func TestLoadSignedUnderEnforcement(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{SigEnforce: true})
	path, err := kmodtest.WriteModule(e.dir, "a.ko", kmodtest.ModuleSpec{Name: "a", Livepatch: true, Signed: true})
	require.NoError(t, err)
	res, err := e.sys.Load(ctx(t), path, loadOpts(nil))
	require.NoError(t, err)
	assert.Equal(t, "a", res.Module.Name)
	assert.Equal(t, []string{"finit_module a.ko flags=0"}, e.k.Calls())
	lp, err := e.sys.Livepatch("a")
	require.NoError(t, err, "the signed module is loaded and its livepatch registered")
	assert.True(t, lp.Enabled)
	assert.False(t, lp.Transition)
}

func TestLoadVermagicErrorShowsBoth(t *testing.T) {
	e := newEnv(t, nil)
	path, err := kmodtest.WriteModule(e.dir, "a.ko", kmodtest.ModuleSpec{Name: "a", Livepatch: true, Vermagic: "5.10.0 SMP "})
	require.NoError(t, err)
	_, err = e.sys.Load(ctx(t), path, loadOpts(nil))
	var ve *kmod.VermagicError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "5.10.0 SMP ", ve.Have)
	assert.Equal(t, kmodtest.DefaultRelease, ve.Want)
	assert.Contains(t, err.Error(), "5.10.0")
	assert.Contains(t, err.Error(), kmodtest.DefaultRelease)
}

func TestLoadMissingAndBadFiles(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Load(ctx(t), filepath.Join(e.dir, "nope.ko"), loadOpts(nil))
	require.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(e.dir, "bad.ko")
	require.NoError(t, os.WriteFile(bad, []byte("#!/bin/sh\n"), 0o644))
	_, err = e.sys.Load(ctx(t), bad, loadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrBadModule)
	assert.Contains(t, err.Error(), bad)
	assert.Empty(t, e.k.Calls())
}

func TestLoadAlreadyLoaded(t *testing.T) {
	e := newEnv(t, nil)
	path := e.module(t, "a.ko", "a")
	_, err := e.sys.Load(ctx(t), path, loadOpts(nil))
	require.NoError(t, err)
	_, err = e.sys.Load(ctx(t), path, loadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrAlreadyLoaded)
	require.ErrorIs(t, err, syscall.EEXIST)
}

func TestLoadStallRevertsAndReportsTasks(t *testing.T) {
	e := newEnv(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stack: "[<0>] cmdline_proc_show+0x10/0x30", Stubborn: true})
	e.k.AddTask(kmodtest.Task{PID: 7, Comm: "bash"})
	var events []kmod.Event
	o := loadOpts(&events)
	o.Timing.TransitionTimeout = 300 * time.Millisecond
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), o)
	require.ErrorIs(t, err, kmod.ErrTransitionStalled)
	var se *kmod.StalledError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Reverted, "revert error: %v", se.RevertErr)
	require.Len(t, se.Tasks, 1)
	assert.Equal(t, kmod.Task{PID: 42, TID: 42, Comm: "sleepy", Stack: "[<0>] cmdline_proc_show+0x10/0x30"}, se.Tasks[0])
	assert.Empty(t, e.k.Loaded(), "module removed")
	assert.Empty(t, e.k.Patches(), "kernel left unpatched")
	assert.Contains(t, kinds(events), kmod.EventReverting)
}

func TestLoadStallEndsOnSignal(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{Signal: true})
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true, WakesOnSignal: true})
	var events []kmod.Event
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(&events))
	require.NoError(t, err)
	assert.Contains(t, kinds(events), kmod.EventSignalled)
	assert.Equal(t, []string{"a"}, e.k.Patches())
}

// A patch disabled by someone else while Load waits for its transition
// vanishes from sysfs; Load must not report it applied.
func TestLoadFailsWhenPatchDisabledDuringTransition(t *testing.T) {
	e := newEnv(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
	opts := loadOpts(nil)
	opts.Progress = klpkit.On(func(ev kmod.Event) {
		if ev.Kind == kmod.EventWaiting {
			enabled := filepath.Join(e.k.Root, "sys/kernel/livepatch", ev.Module, "enabled")
			require.NoError(t, os.WriteFile(enabled, []byte("0"), 0o644))
		}
	})
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a")
	assert.Empty(t, e.k.Patches(), "the kernel is not patched")
}

func TestLoadClearsDisabledLeftover(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{})
	a := e.module(t, "a.ko", "a")
	e.k.SetPatch("b", kmodtest.Patch{Replace: true})
	_, err := e.sys.Load(ctx(t), a, loadOpts(nil))
	require.NoError(t, err)
	_, err = e.sys.Load(ctx(t), e.module(t, "b.ko", "b"), loadOpts(nil))
	require.NoError(t, err)
	// a is replaced: loaded but not a live patch. Loading it again first
	// removes the leftover, as kpatch does.
	_, err = e.sys.Load(ctx(t), a, loadOpts(nil))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a", "b"}, e.k.Loaded())
}

func TestLoadRetireOlder(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"old1", "old2"} {
		_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
		require.NoError(t, err)
	}
	o := loadOpts(nil)
	o.RetireOlder = true
	res, err := e.sys.Load(ctx(t), e.module(t, "cum.ko", "cum"), o)
	require.NoError(t, err)
	assert.Equal(t, []string{"old2", "old1"}, res.Retired, "newest first")
	assert.Equal(t, []string{"cum"}, e.k.Loaded())
	assert.Equal(t, []string{"cum"}, e.k.Patches())
}

func TestConcurrentLoadsAreSerialised(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{TransitionTicks: 20})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		path := e.module(t, string(rune('a'+i))+".ko", string(rune('a'+i)))
		wg.Go(func() {
			o := loadOpts(nil)
			o.Timing.BusyRetries = -1 // without the lock, the kernel's EBUSY would show
			_, errs[i] = e.sys.Load(ctx(t), path, o)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	assert.Len(t, e.k.Patches(), 4)
}

func TestForceStalledPatch(t *testing.T) {
	e := newEnv(t, nil)
	e.k.AddTask(kmodtest.Task{PID: 42, Comm: "sleepy", Stubborn: true})
	c := ctx(t)
	go func() {
		for c.Err() == nil {
			if _, err := e.sys.Force(""); err == nil {
				return
			}
		}
	}()
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err, "forced transition completes")
	uo := unloadOpts(nil)
	uo.Timing.RefTimeout = 200 * time.Millisecond // the reference never drops
	_, err = e.sys.Unload(ctx(t), "a", uo)
	require.Error(t, err, "a forced patch can never be removed")
	assert.Contains(t, err.Error(), "forced")
}

func TestForceAndSignalNeedTransition(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{Signal: true})
	_, err := e.sys.Force("")
	require.ErrorIs(t, err, kmod.ErrNotInTransition)
	_, err = e.sys.Signal()
	require.ErrorIs(t, err, kmod.ErrNotInTransition)
}
