// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

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

// rtBuiltKo is the livepatch build.Run makes against the rt lab kernel.
const rtBuiltKo = "/klp/klpkit-rt.ko"

// TestKmodOnRTInVM is the smoke test of the rt lab kernel (Debian's
// PREEMPT_RT 6.1, lab.Bookworm61RT), in one boot: a livepatch built by
// build.Run against its tree loads, its transition completes, the new code
// runs and it unloads; kmod's load/list/unload and its replace, stack,
// retire and stalled-transition scenarios run as on 6.1; and a transition
// held up by a SCHED_FIFO kernel thread asleep in the patched function
// stalls, with kmod reporting that thread and reverting.
func TestKmodOnRTInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bookworm61RT,
		Timeout:    4 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			files := append(vmSample(t, l), vmModules(t, l)...)
			return append(files, vmtest.File{Guest: rtBuiltKo, Host: buildRTPatch(t, l)})
		},
	}, func(t *testing.T) {
		release, err := os.ReadFile("/proc/sys/kernel/osrelease")
		require.NoError(t, err)
		require.Contains(t, string(release), "-rt-amd64", "guest kernel")
		rt, err := os.ReadFile("/sys/kernel/realtime")
		require.NoError(t, err, "a PREEMPT_RT kernel has /sys/kernel/realtime")
		require.Equal(t, "1\n", string(rt))

		t.Run("build.Run patch", rtBuiltPatch)
		t.Run("load list unload", func(t *testing.T) { loadListUnload(t, true) })
		t.Run("scenarios", patchScenarios)
		t.Run("stalled by an rt task", rtTaskStall)
	})
}

// buildRTPatch builds testdata/patches/cmdline-string.patch with build.Run
// against the rt lab's tree.
func buildRTPatch(t *testing.T, l *lab.Lab) string {
	t.Helper()
	if l.SourceDir == "" {
		t.Fatal("the rt lab was prepared without its source tree: run `make lab-6.1-rt`")
	}
	// The tree must be Debian's rt series checked against the rt headers,
	// and the patched files none that the series it was made from has
	// other than the kernel's (see internal/lab/rt.go).
	series, err := l.RTSeries()
	require.NoError(t, err, "the rt tree's provenance")
	patch, err := os.ReadFile("../testdata/patches/cmdline-string.patch")
	require.NoError(t, err)
	for _, f := range series.Inexact() {
		require.NotContains(t, string(patch), "+++ b/"+f+"\n", "the rt tree may differ from the rt kernel in %s", f)
	}
	t.Logf("rt tree: Debian %s's rt series (%s, %d patches, left out %+v), %d rt header files equal", series.Debian, series.RT, series.Applied, series.Skipped, series.Headers)
	// The build user must reach the output directory (t.TempDir's
	// parent is 0700).
	out, err := os.MkdirTemp("", "klpkit-rt-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(out) })
	require.NoError(t, os.Chmod(out, 0o755))
	start := time.Now()
	res, err := build.Run(t.Context(), build.Options{
		Source: &build.Tree{
			Release:   l.KernelRelease,
			Dir:       l.SourceDir,
			KbuildDir: l.HeadersDir,
			Config:    l.Config,
			Vmlinux:   l.Vmlinux,
			MakeArgs:  l.MakeArgs(),
		},
		Patches:   []string{"../testdata/patches/cmdline-string.patch"},
		Name:      filepath.Base(rtBuiltKo),
		OutputDir: out,
		Progress:  klpkit.On(func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) }),
	})
	require.NoError(t, err)
	t.Logf("built %s for %s in %s: %+v", res.Module, l.KernelRelease, time.Since(start).Round(time.Millisecond), res.Objects)
	return res.Module
}

// rtBuiltPatch loads build.Run's patch: the transition completes, the new
// cmdline_proc_show runs, and unloading restores the old one.
func rtBuiltPatch(t *testing.T) {
	const marker = " klpkit=cmdline-string\n"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var sys kmod.System
	require.NotContains(t, vmCmdline(t), marker)
	res, err := sys.Load(ctx, rtBuiltKo, nil)
	require.NoError(t, err)
	t.Logf("loaded %s, transition %v", res.Module.Name, res.Transition)
	transition, err := os.ReadFile("/sys/kernel/livepatch/" + res.Module.Name + "/transition")
	require.NoError(t, err)
	require.Equal(t, "0\n", string(transition), "the transition completed")
	got := vmCmdline(t)
	t.Logf("/proc/cmdline = %q", got)
	require.True(t, strings.HasSuffix(got, marker), "the new cmdline_proc_show runs")
	_, err = sys.Unload(ctx, res.Module.Name, nil)
	require.NoError(t, err)
	require.NoDirExists(t, "/sys/module/"+res.Module.Name)
	require.NotContains(t, vmCmdline(t), marker)
}

// rtTaskStall: klpkit_sleeper's kthread, made SCHED_FIFO, sleeps in
// klpkit_sleeper_wait and so holds up klpkit_stall's transition.
func rtTaskStall(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var sys kmod.System
	_, err := sys.Load(ctx, "/vm/klpkit_sleeper.ko", &kmod.LoadOptions{Force: true}) // an ordinary module
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
	var events []kmod.Event
	_, err = sys.Load(ctx, "/vm/klpkit_stall.ko", &kmod.LoadOptions{
		Timing:   &kmod.Timing{TransitionTimeout: 3 * time.Second, SignalAfter: time.Second},
		Progress: klpkit.On(func(e kmod.Event) { events = append(events, e) }),
	})
	require.ErrorIs(t, err, kmod.ErrTransitionStalled)
	var se *kmod.StalledError
	require.True(t, errors.As(err, &se))
	t.Logf("stalled after %s: %v", time.Since(start).Round(time.Millisecond), err)
	assert.True(t, se.Reverted, "revert: %v", se.RevertErr)
	assert.Contains(t, kinds(events), kmod.EventReverting)
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
