// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

const (
	vmSampleSource = "../testdata/lab/livepatch-sample"
	vmSampleKo     = "/lab/" + lab.SampleName + ".ko"
	vmSampleXz     = "/lab/klplab-sample.ko.xz" // dash spelling, compressed
)

// vmSample builds the lab's sample livepatch on the host and ships it to the
// guest plain and xz-compressed.
func vmSample(t *testing.T, l *lab.Lab) []vmtest.File {
	kos, err := l.BuildModule(t.Context(), vmSampleSource, t.TempDir(), nil)
	require.NoError(t, err)
	img, err := os.ReadFile(kos[0])
	require.NoError(t, err)
	xz, err := kmodtest.Compress(vmSampleXz, img)
	require.NoError(t, err)
	xzPath := filepath.Join(t.TempDir(), "sample.ko.xz")
	require.NoError(t, os.WriteFile(xzPath, xz, 0o644))
	return []vmtest.File{{Guest: vmSampleKo, Host: kos[0]}, {Guest: vmSampleXz, Host: xzPath}}
}

func vmCmdline(t *testing.T) string {
	b, err := os.ReadFile("/proc/cmdline")
	require.NoError(t, err)
	return string(b)
}

// TestLoadListUnloadInVM drives package kmod against the real kernel: load,
// list, info, the EEXIST path, unload by the dash spelling, then a
// compressed module (user-space decompression: the lab kernel has none)
// and UnloadAll. On 6.1; TestKmodOn510InVM runs it on 5.10.
func TestLoadListUnloadInVM(t *testing.T) {
	vmtest.Run(t, vmtest.Config{Setup: vmSample}, func(t *testing.T) { loadListUnload(t, true) })
}

// loadListUnload is TestLoadListUnloadInVM's guest; objPatched says
// whether the kernel shows /sys/kernel/livepatch/<patch>/<object>/patched
// (6.1 does, 5.10 does not).
func loadListUnload(t *testing.T, objPatched bool) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var sys kmod.System // the real host
	before := vmCmdline(t)

	var events []kmod.Event
	res, err := sys.Load(ctx, vmSampleKo, &kmod.LoadOptions{Progress: klpkit.On(func(e kmod.Event) { events = append(events, e) })})
	require.NoError(t, err)
	assert.Equal(t, lab.SampleName, res.Module.Name)
	t.Logf("loaded %s, transition %v, events %v", res.Module.Name, res.Transition, kinds(events))
	require.Equal(t, lab.SampleMarker+"\n", vmCmdline(t))

	l, err := sys.List()
	require.NoError(t, err)
	require.Len(t, l.Loaded, 1)
	lp := l.Loaded[0]
	assert.Equal(t, lab.SampleName, lp.Name)
	assert.True(t, lp.Enabled)
	assert.False(t, lp.Transition)
	require.Len(t, lp.Objects, 1)
	assert.Equal(t, "vmlinux", lp.Objects[0].Name)
	assert.Equal(t, []kmod.Function{{Name: "cmdline_proc_show", Sympos: 1}}, lp.Objects[0].Functions)
	if objPatched {
		require.NotNil(t, lp.Objects[0].Patched, "the kernel shows <obj>/patched")
		assert.True(t, *lp.Objects[0].Patched)
	} else {
		assert.Nil(t, lp.Objects[0].Patched, "no <obj>/patched in this kernel")
	}
	mods, err := sys.Modules()
	require.NoError(t, err)
	require.NotEmpty(t, mods)
	assert.Equal(t, lab.SampleName, mods[0].Name)
	assert.True(t, mods[0].Livepatch(), "taint K in /proc/modules: %+v", mods[0])

	_, err = sys.Load(ctx, vmSampleKo, nil)
	require.ErrorIs(t, err, kmod.ErrAlreadyLoaded)

	name, err := sys.Unload(ctx, "klplab-sample", nil)
	require.NoError(t, err)
	assert.Equal(t, lab.SampleName, name)
	assert.NoDirExists(t, "/sys/module/"+lab.SampleName)
	assert.Equal(t, before, vmCmdline(t))

	res, err = sys.Load(ctx, vmSampleXz, nil)
	require.NoError(t, err)
	assert.Equal(t, kmod.CompressXZ, res.Module.Compression)
	require.Equal(t, lab.SampleMarker+"\n", vmCmdline(t))
	done, err := sys.UnloadAll(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{lab.SampleName}, done)
	assert.Equal(t, before, vmCmdline(t))
	assert.NoDirExists(t, "/sys/module/"+lab.SampleName)

	_, err = sys.Unload(ctx, lab.SampleName, nil)
	require.ErrorIs(t, err, kmod.ErrNotLoaded)
}
