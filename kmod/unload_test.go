// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"slices"
	"syscall"
	"testing"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnloadSpellings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(e *env, path string) string
	}{
		{"underscore", func(*env, string) string { return "livepatch_foo" }},
		{"dash", func(*env, string) string { return "livepatch-foo" }},
		{"file name", func(*env, string) string { return "livepatch-foo.ko" }},
		{"path", func(_ *env, path string) string { return path }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			// The file name differs from the in-kernel name for the path case.
			path := e.module(t, "livepatch-foo.ko", "livepatch_foo")
			_, err := e.sys.Load(ctx(t), path, loadOpts(nil))
			require.NoError(t, err)
			var events []kmod.Event
			name, err := e.sys.Unload(ctx(t), tc.target(e, path), unloadOpts(&events))
			require.NoError(t, err)
			assert.Equal(t, "livepatch_foo", name)
			assert.Empty(t, e.k.Loaded())
			assert.Empty(t, e.k.Patches())
			// Waiting shows only when the transition is still on at the
			// first look, as in kpatch.
			got := slices.DeleteFunc(kinds(events), func(k kmod.EventKind) bool { return k == kmod.EventWaiting })
			assert.Equal(t, []kmod.EventKind{kmod.EventDisabling, kmod.EventUnloading}, got)
		})
	}
}

func TestUnloadPathReadsInKernelName(t *testing.T) {
	e := newEnv(t, nil)
	path := e.module(t, "renamed-file.ko", "real_name")
	_, err := e.sys.Load(ctx(t), path, loadOpts(nil))
	require.NoError(t, err)
	name, err := e.sys.Unload(ctx(t), path, unloadOpts(nil))
	require.NoError(t, err)
	assert.Equal(t, "real_name", name)
}

func TestUnloadNotLoaded(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Unload(ctx(t), "nothing", unloadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrNotLoaded)
}

func TestUnloadReplacedSkipsDisable(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{ReplaceAttr: true})
	e.k.SetPatch("v2", kmodtest.Patch{Replace: true})
	_, err := e.sys.Load(ctx(t), e.module(t, "v1.ko", "v1"), loadOpts(nil))
	require.NoError(t, err)
	_, err = e.sys.Load(ctx(t), e.module(t, "v2.ko", "v2"), loadOpts(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"v2"}, e.k.Patches(), "v2 replaced v1")

	l, err := e.sys.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"v1"}, l.Replaced)
	require.Len(t, l.Loaded, 1)
	require.NotNil(t, l.Loaded[0].Replace)
	assert.True(t, *l.Loaded[0].Replace)

	var events []kmod.Event
	_, err = e.sys.Unload(ctx(t), "v1", unloadOpts(&events))
	require.NoError(t, err)
	assert.Equal(t, []kmod.EventKind{kmod.EventUnloading}, kinds(events), "no disable step")
	assert.Equal(t, []string{"v2"}, e.k.Loaded())
}

func TestUnloadDeleteBusyRetries(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	e.k.Fail("delete", syscall.EBUSY, 2)
	e.k.Fail("delete", syscall.EAGAIN, 1)
	_, err = e.sys.Unload(ctx(t), "a", unloadOpts(nil))
	require.NoError(t, err)
	assert.Empty(t, e.k.Loaded())
}

func TestUnloadStalled(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.sys.Load(ctx(t), e.module(t, "a.ko", "a"), loadOpts(nil))
	require.NoError(t, err)
	e.k.Fail("delete", syscall.EPERM, 1)
	_, err = e.sys.Unload(ctx(t), "a", unloadOpts(nil))
	require.ErrorIs(t, err, kmod.ErrPermission)
	require.ErrorIs(t, err, syscall.EPERM)
}

func TestUnloadAllStackOrder(t *testing.T) {
	for _, cfg := range []*kmodtest.Config{{StackOrder: true}, {}} {
		e := newEnv(t, cfg)
		for _, n := range []string{"p1", "p2", "p3"} {
			_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
			require.NoError(t, err)
		}
		if cfg.StackOrder {
			lps, err := e.sys.Livepatches()
			require.NoError(t, err)
			for i, lp := range lps {
				assert.Equal(t, i+1, lp.StackOrder, lp.Name)
			}
		}
		done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
		require.NoError(t, err)
		assert.Equal(t, []string{"p3", "p2", "p1"}, done, "newest first")
		assert.Empty(t, e.k.Loaded())
	}
}

func TestUnloadAllPasses(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"p1", "p2"} {
		_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
		require.NoError(t, err)
	}
	e.k.Fail("delete", syscall.EPERM, 1) // p2 fails once; the second pass gets it
	done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"p1", "p2"}, done)
	assert.Empty(t, e.k.Loaded())
}

func TestUnloadAllReportsLeftovers(t *testing.T) {
	e := newEnv(t, nil)
	for _, n := range []string{"p1", "p2"} {
		_, err := e.sys.Load(ctx(t), e.module(t, n+".ko", n), loadOpts(nil))
		require.NoError(t, err)
	}
	e.k.Fail("delete", syscall.EPERM, 2)
	done, err := e.sys.UnloadAll(ctx(t), unloadOpts(nil))
	require.ErrorIs(t, err, syscall.EPERM)
	assert.Contains(t, err.Error(), "p1")
	assert.Contains(t, err.Error(), "p2")
	assert.Empty(t, done)
	assert.Equal(t, []string{"p2", "p1"}, e.k.Loaded(), "disabled but still loaded")
	assert.Empty(t, e.k.Patches())
}

func TestResolveName(t *testing.T) {
	for in, want := range map[string]string{
		"livepatch-foo":        "livepatch_foo",
		"livepatch_foo":        "livepatch_foo",
		"livepatch-foo.ko":     "livepatch_foo",
		"livepatch-foo.ko.xz":  "livepatch_foo",
		"livepatch-foo.ko.zst": "livepatch_foo",
	} {
		got, err := kmod.ResolveName(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := kmod.ResolveName("/no/such/file.ko")
	require.ErrorContains(t, err, "/no/such/file.ko: no such module file")
}
