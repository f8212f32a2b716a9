// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod"
)

// TestRTInVM is the smoke test of the rt lab kernel (Debian's PREEMPT_RT
// 6.1, its source tree patched with the rt featureset), in one boot: a
// livepatch built by build.Run against it loads, its transition completes
// and the new code runs, and it unloads; then a transition held up by a
// SCHED_FIFO kernel thread asleep in the patched function stalls, and
// kmod reports that thread with its stack and reverts.
func TestRTInVM(t *testing.T) {
	const (
		guestKo   = "/klp/klpkit-rt.ko"
		vmModules = "/vm/"
	)
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bookworm61RT,
		Timeout:    3 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			tree := labTree(t, l)
			start := time.Now()
			res, err := build.Run(t.Context(), build.Options{
				Source:    tree,
				Patches:   []string{filepath.Join(patchDir, "cmdline-string.patch")},
				Name:      "klpkit-rt.ko",
				OutputDir: openTempDir(t),
				Progress:  klpkit.On(func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) }),
			})
			require.NoError(t, err)
			t.Logf("built %s for %s in %s: %+v", res.Module, l.KernelRelease, time.Since(start).Round(time.Millisecond), res.Objects)
			files := []vmtest.File{{Guest: guestKo, Host: res.Module}}
			// kmod's stall scenario's modules: a kthread asleep in a
			// function and a livepatch of that function.
			kos, err := l.BuildModule(t.Context(), "../testdata/kmod/vm-modules", t.TempDir(), nil)
			require.NoError(t, err)
			for _, ko := range kos {
				if n := filepath.Base(ko); n == "klpkit_sleeper.ko" || n == "klpkit_stall.ko" {
					files = append(files, vmtest.File{Guest: vmModules + n, Host: ko})
				}
			}
			require.Len(t, files, 3, "the sleeper and stall modules of %v", kos)
			return files
		},
	}, func(t *testing.T) {
		release, err := os.ReadFile("/proc/sys/kernel/osrelease")
		require.NoError(t, err)
		require.Contains(t, string(release), "-rt-amd64", "guest kernel")
		rt, err := os.ReadFile("/sys/kernel/realtime")
		require.NoError(t, err, "a PREEMPT_RT kernel has /sys/kernel/realtime")
		require.Equal(t, "1\n", string(rt))

		t.Run("load and unload", func(t *testing.T) {
			loadUnload(cmdlineEffect)(t, []string{guestKo})
		})

		t.Run("stalled by an rt task", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var sys kmod.System
			_, err := sys.Load(ctx, vmModules+"klpkit_sleeper.ko", &kmod.LoadOptions{Force: true}) // an ordinary module
			require.NoError(t, err)
			defer func() {
				_, err := sys.Unload(context.WithoutCancel(ctx), "klpkit_sleeper", &kmod.UnloadOptions{AnyModule: true})
				assert.NoError(t, err)
			}()
			tid := findThread(t, "klpkit_sleeper")
			require.NoError(t, unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 50}, 0))
			attr, err := unix.SchedGetAttr(tid, 0)
			require.NoError(t, err)
			require.Equal(t, uint32(unix.SCHED_FIFO), attr.Policy, "the sleeper runs SCHED_FIFO")
			time.Sleep(100 * time.Millisecond) // let the kthread reach its sleep

			start := time.Now()
			_, err = sys.Load(ctx, vmModules+"klpkit_stall.ko", &kmod.LoadOptions{
				Timing: &kmod.Timing{TransitionTimeout: 3 * time.Second, SignalAfter: time.Second},
			})
			require.ErrorIs(t, err, kmod.ErrTransitionStalled)
			var se *kmod.StalledError
			require.True(t, errors.As(err, &se))
			t.Logf("stalled after %s: %v", time.Since(start).Round(time.Millisecond), err)
			assert.True(t, se.Reverted, "revert: %v", se.RevertErr)
			var found bool
			for _, task := range se.Tasks {
				t.Logf("blocking task %d/%d %s:\n%s", task.PID, task.TID, task.Comm, task.Stack)
				if task.TID == tid {
					found = true
					assert.Equal(t, "klpkit_sleeper", task.Comm)
					assert.Contains(t, task.Stack, "klpkit_sleeper_wait", "stack of the stalled rt kthread")
				}
			}
			assert.True(t, found, "the SCHED_FIFO kthread %d is reported: %+v", tid, se.Tasks)
			assert.NoDirExists(t, "/sys/kernel/livepatch/klpkit_stall", "kernel left unpatched")
			assert.NoDirExists(t, "/sys/module/klpkit_stall")
		})
	})
}

// findThread returns the id of the one task whose comm is name.
func findThread(t *testing.T, name string) int {
	t.Helper()
	comms, err := filepath.Glob("/proc/[0-9]*/comm")
	require.NoError(t, err)
	var tids []int
	for _, c := range comms {
		b, err := os.ReadFile(c)
		if err != nil || strings.TrimSpace(string(b)) != name {
			continue
		}
		tid, err := strconv.Atoi(filepath.Base(filepath.Dir(c)))
		require.NoError(t, err)
		tids = append(tids, tid)
	}
	require.Len(t, tids, 1, "tasks named %s", name)
	return tids[0]
}
