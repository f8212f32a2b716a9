// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

const vmSampleKo = "/lab/" + lab.SampleName + ".ko"

// TestCLIInVM drives the kpatch command's run() on the real kernel: install
// into the store, load --all as boot does, list (kpatch's exact layout),
// info, unload --all, uninstall. On 6.1; TestCLIOn510InVM runs it on 5.10.
func TestCLIInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{Setup: cliSample}, cliGuest)
}

// cliSample builds the lab's sample livepatch for TestCLIInVM's guest.
func cliSample(t *testing.T, l *lab.Lab) []vmtest.File {
	kos, err := l.BuildModule(t.Context(), "../../testdata/lab/livepatch-sample", t.TempDir(), nil)
	require.NoError(t, err)
	return []vmtest.File{{Guest: vmSampleKo, Host: kos[0]}}
}

// cliGuest is TestCLIInVM's guest.
func cliGuest(t *testing.T) {
	var out, errb bytes.Buffer
	kpatch := func(args ...string) error {
		out.Reset()
		errb.Reset()
		err := run(args, &out, &errb)
		t.Logf("kpatch %v: err=%v\nstdout:\n%sstderr:\n%s", args, err, out.String(), errb.String())
		return err
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	require.NoError(t, err)
	kver := string(bytes.TrimSpace(rel))

	require.NoError(t, kpatch("install", vmSampleKo))
	require.FileExists(t, "/lib/modules/"+kver+"/livepatches/"+lab.SampleName+".ko")
	require.NoError(t, kpatch("load", "--all"))
	assert.Contains(t, out.String(), "loading patch module: /lib/modules/"+kver+"/livepatches/"+lab.SampleName+".ko\n")
	cmdline, err := os.ReadFile("/proc/cmdline")
	require.NoError(t, err)
	require.Equal(t, lab.SampleMarker+"\n", string(cmdline))

	require.NoError(t, kpatch("list"))
	assert.Equal(t, "Loaded patch modules:\n"+lab.SampleName+" [enabled]\n\nInstalled patch modules:\n"+lab.SampleName+" ("+kver+")\n", out.String())
	require.NoError(t, kpatch("info", lab.SampleName))
	assert.Contains(t, out.String(), "livepatch:      Y\n")
	require.NoError(t, kpatch("signal"), "nothing in transition: exit 0")
	assert.Empty(t, errb.String(), "and silent, as kpatch is")

	require.Error(t, kpatch("load", vmSampleKo), "already loaded")
	assert.Contains(t, errb.String(), "kpatch: failed to load module")

	require.NoError(t, kpatch("unload", "--all"))
	assert.Contains(t, out.String(), "unloading patch module: "+lab.SampleName+"\n")
	assert.NoDirExists(t, "/sys/module/"+lab.SampleName)
	require.NoError(t, kpatch("uninstall", lab.SampleName))
	require.NoError(t, kpatch("list"))
	assert.Equal(t, "Loaded patch modules:\n\nInstalled patch modules:\n", out.String())
}

// TestCLIScenariosInVM drives the command on the real kernel through the
// cases the issue names beyond the basics: a compressed module, two
// cumulative modules (the second replaces the first, which unload then
// removes without a disable), two stacked non-replace modules with
// --retire-older, and a transition that really stalls: kpatch's report of
// the stalled task, the revert, and the kernel left unpatched. On 6.1;
// TestCLIOn510InVM runs it on 5.10.
func TestCLIScenariosInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{Timeout: 3 * time.Minute, Setup: cliModules}, cliScenariosGuest)
}

// cliModules builds testdata/kmod/vm-modules for TestCLIScenariosInVM's
// guest, klpkit_cum1 also xz-compressed.
func cliModules(t *testing.T, l *lab.Lab) []vmtest.File {
	kos, err := l.BuildModule(t.Context(), "../../testdata/kmod/vm-modules", t.TempDir(), nil)
	require.NoError(t, err)
	var files []vmtest.File
	for _, ko := range kos {
		files = append(files, vmtest.File{Guest: "/vm/" + filepath.Base(ko), Host: ko})
		if filepath.Base(ko) == "klpkit_cum1.ko" {
			img, err := os.ReadFile(ko)
			require.NoError(t, err)
			xz, err := kmodtest.Compress("klpkit_cum1.ko.xz", img)
			require.NoError(t, err)
			p := filepath.Join(t.TempDir(), "klpkit_cum1.ko.xz")
			require.NoError(t, os.WriteFile(p, xz, 0o644))
			files = append(files, vmtest.File{Guest: "/vm/klpkit_cum1.ko.xz", Host: p})
		}
	}
	return files
}

// cliScenariosGuest is TestCLIScenariosInVM's guest.
func cliScenariosGuest(t *testing.T) {
	var out, errb bytes.Buffer
	timing := &kmod.Timing{SignalAfter: time.Second, TransitionTimeout: 3 * time.Second}
	kpatch := func(args ...string) error {
		out.Reset()
		errb.Reset()
		a := &app{sys: &kmod.System{}, stdout: &out, stderr: &errb, timing: timing}
		err := a.run(args)
		t.Logf("kpatch %v: err=%v\nstdout:\n%sstderr:\n%s", args, err, out.String(), errb.String())
		return err
	}
	cmdline := func() string {
		b, err := os.ReadFile("/proc/cmdline")
		require.NoError(t, err)
		return string(b)
	}
	before := cmdline()

	// Cumulative: cum1 (xz-compressed), then cum2 replaces it.
	require.NoError(t, kpatch("load", "/vm/klpkit_cum1.ko.xz"))
	require.Equal(t, "klpkit-vm: cum1\n", cmdline())
	require.NoError(t, kpatch("load", "/vm/klpkit_cum2.ko"))
	require.Equal(t, "klpkit-vm: cum2\n", cmdline())
	require.NoError(t, kpatch("list"))
	assert.Equal(t, "Loaded patch modules:\nklpkit_cum2 [enabled]\n\nInstalled patch modules:\n", out.String())
	require.NoError(t, kpatch("unload", "klpkit-cum1"))
	assert.Equal(t, "unloading patch module: klpkit_cum1\n", out.String(), "a replaced patch needs no disable")
	require.NoError(t, kpatch("unload", "klpkit_cum2"))
	require.Equal(t, before, cmdline())

	// Stacked non-replace patches: the newest wins; --retire-older
	// unloads the one below once the new one is live.
	require.NoError(t, kpatch("load", "/vm/klpkit_stack1.ko"))
	require.NoError(t, kpatch("load", "--retire-older", "/vm/klpkit_stack2.ko"))
	assert.Contains(t, out.String(), "retired older patch module: klpkit_stack1\n")
	require.Equal(t, "klpkit-vm: stack2\n", cmdline())
	assert.NoDirExists(t, "/sys/module/klpkit_stack1")
	require.NoError(t, kpatch("unload", "--all"))
	require.Equal(t, before, cmdline())

	// A stall: the sleeper's kthread sleeps inside the function the
	// patch changes. 6.1 and 5.10 signal tasks by themselves: kpatch's warnings.
	var sys kmod.System
	_, err := sys.Load(t.Context(), "/vm/klpkit_sleeper.ko", &kmod.LoadOptions{Force: true})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // let the kthread reach its sleep
	require.Error(t, kpatch("load", "/vm/klpkit_stall.ko"))
	assert.Contains(t, out.String(), "patch transition has stalled!\n")
	assert.Contains(t, errb.String(), "kpatch: Livepatch process signaling is performed automatically on your system.\n")
	assert.Regexp(t, `\nStalled processes:\n[0-9]+ klpkit_sleeper\nstack:\n(.*\n)*.*klpkit_sleeper_wait`, out.String())
	assert.Contains(t, out.String(), "module klpkit_stall did not complete its transition, unloading...\n")
	assert.Contains(t, errb.String(), "kpatch: failed to load module /vm/klpkit_stall.ko")
	assert.NoDirExists(t, "/sys/kernel/livepatch/klpkit_stall", "the kernel is left unpatched")
	assert.NoDirExists(t, "/sys/module/klpkit_stall")
	_, err = sys.Unload(t.Context(), "klpkit_sleeper", &kmod.UnloadOptions{AnyModule: true})
	require.NoError(t, err)
}
