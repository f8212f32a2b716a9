// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod"
)

// vmModules builds testdata/kmod/vm-modules and ships each .ko as /vm/<name>.ko.
func vmModules(t *testing.T, l *lab.Lab) []vmtest.File {
	kos, err := l.BuildModule(t.Context(), "../testdata/kmod/vm-modules", t.TempDir(), nil)
	require.NoError(t, err)
	require.Len(t, kos, 6)
	var files []vmtest.File
	for _, ko := range kos {
		files = append(files, vmtest.File{Guest: "/vm/" + filepath.Base(ko), Host: ko})
	}
	return files
}

func vmMarker(name string) string { return "klpkit-vm: " + name + "\n" }

// TestPatchScenariosInVM: cumulative replace, stacked patches, retiring
// older patches, and a transition that really stalls, on the real kernel
// (6.1; TestKmodOn510InVM runs them on 5.10).
func TestPatchScenariosInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{Setup: vmModules, Timeout: 3 * time.Minute}, patchScenarios)
}

// patchScenarios is TestPatchScenariosInVM's guest.
func patchScenarios(t *testing.T) {
	var sys kmod.System
	before := vmCmdline(t)
	load := func(t *testing.T, ctx context.Context, name string, opts *kmod.LoadOptions) *kmod.LoadResult {
		t.Helper()
		res, err := sys.Load(ctx, "/vm/"+name+".ko", opts)
		require.NoError(t, err, name)
		return res
	}

	t.Run("cumulative replace", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		load(t, ctx, "klpkit_cum1", nil)
		require.Equal(t, vmMarker("cum1"), vmCmdline(t))
		load(t, ctx, "klpkit_cum2", nil)
		require.Equal(t, vmMarker("cum2"), vmCmdline(t))
		l, err := sys.List()
		require.NoError(t, err)
		require.Len(t, l.Loaded, 1, "cum2 replaced cum1 in sysfs")
		assert.Equal(t, "klpkit_cum2", l.Loaded[0].Name)
		assert.Equal(t, []string{"klpkit_cum1"}, l.Replaced)

		var events []kmod.Event
		_, err = sys.Unload(ctx, "klpkit-cum1", &kmod.UnloadOptions{Progress: klpkit.On(func(e kmod.Event) { events = append(events, e) })})
		require.NoError(t, err)
		assert.Equal(t, []kmod.EventKind{kmod.EventUnloading}, kinds(events), "a replaced patch needs no disable")
		assert.Equal(t, vmMarker("cum2"), vmCmdline(t), "cum2 still live")
		_, err = sys.Unload(ctx, "klpkit_cum2", nil)
		require.NoError(t, err)
		assert.Equal(t, before, vmCmdline(t))
	})

	t.Run("stacked", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		load(t, ctx, "klpkit_stack1", nil)
		load(t, ctx, "klpkit_stack2", nil)
		require.Equal(t, vmMarker("stack2"), vmCmdline(t), "the newest patch wins")
		l, err := sys.List()
		require.NoError(t, err)
		require.Len(t, l.Loaded, 2)
		_, err = sys.Unload(ctx, "klpkit_stack2", nil)
		require.NoError(t, err)
		require.Equal(t, vmMarker("stack1"), vmCmdline(t), "unstacked to the older patch")
		load(t, ctx, "klpkit_stack2", nil)
		done, err := sys.UnloadAll(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"klpkit_stack2", "klpkit_stack1"}, done, "newest first")
		assert.Equal(t, before, vmCmdline(t))
	})

	t.Run("retire older", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		load(t, ctx, "klpkit_stack1", nil)
		res := load(t, ctx, "klpkit_stack2", &kmod.LoadOptions{RetireOlder: true})
		assert.Equal(t, []string{"klpkit_stack1"}, res.Retired)
		assert.Equal(t, vmMarker("stack2"), vmCmdline(t))
		assert.NoDirExists(t, "/sys/module/klpkit_stack1")
		_, err := sys.Unload(ctx, "klpkit_stack2", nil)
		require.NoError(t, err)
	})

	t.Run("stalled transition", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		load(t, ctx, "klpkit_sleeper", &kmod.LoadOptions{Force: true}) // an ordinary module
		time.Sleep(100 * time.Millisecond)                             // let the kthread reach its sleep
		var events []kmod.Event
		_, err := sys.Load(ctx, "/vm/klpkit_stall.ko", &kmod.LoadOptions{
			Timing:   &kmod.Timing{TransitionTimeout: 3 * time.Second, SignalAfter: time.Second},
			Progress: klpkit.On(func(e kmod.Event) { events = append(events, e) }),
		})
		require.ErrorIs(t, err, kmod.ErrTransitionStalled)
		var se *kmod.StalledError
		require.ErrorAs(t, err, &se)
		t.Logf("stalled: %v", err)
		assert.True(t, se.Reverted, "revert: %v", se.RevertErr)
		var found bool
		for _, task := range se.Tasks {
			if task.Comm == "klpkit_sleeper" {
				found = true
				assert.Contains(t, task.Stack, "klpkit_sleeper_wait", "stack of the stalled kthread")
			}
		}
		assert.True(t, found, "the sleeper kthread is reported: %+v", se.Tasks)
		assert.Contains(t, kinds(events), kmod.EventReverting)
		assert.NoDirExists(t, "/sys/kernel/livepatch/klpkit_stall", "kernel left unpatched")
		assert.NoDirExists(t, "/sys/module/klpkit_stall")
		_, err = sys.Unload(ctx, "klpkit_sleeper", &kmod.UnloadOptions{AnyModule: true})
		require.NoError(t, err)
	})
}
