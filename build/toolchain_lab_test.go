// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
)

// TestRunInToolchainRoot builds the lab patch twice: with --toolchain
// auto, which must pick the host (the host's gcc-12 built the lab
// kernel), and inside a bookworm root provisioned with the kernel's gcc
// (the root TestKbuildModuleInRoot provisions, from the same cache). The
// original, patched and patch objects and the module are byte-identical:
// the same compiler, binutils and tree give the same bytes wherever they
// run. So does an out-of-tree module's livepatch.
func TestRunInToolchainRoot(t *testing.T) {
	l := vmtest.RequireLab(t)
	if os.Geteuid() != 0 {
		needtest.Missing(t, "running inside a toolchain root needs root (mount namespace and chroot)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	// The root of the kernel's compiler, named by its config.
	ccText, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	gcc, err := toolchain.DebianCompiler(ccText)
	require.NoError(t, err)
	start := time.Now()
	root, _ := labtest.BookwormRoot(t, ctx, toolchain.DebianKernelBuild(gcc))
	t.Logf("%s root %s ready in %s", gcc, root.Dir, time.Since(start).Round(time.Millisecond))

	build1 := func(src build.Source, tc build.Toolchain) (string, []string) {
		debug, out := t.TempDir(), t.TempDir()
		var events []string
		start := time.Now()
		res, err := build.Run(ctx, build.Options{
			Source: src, Patches: []string{filepath.Join(patchDir, "uptime-nonexported-call.patch")},
			Name: "klpkit-toolchain.ko", OutputDir: out, DebugDir: debug, Toolchain: tc,
			Progress: klpkit.On(func(e build.Event) { events = append(events, e.Message) }),
		})
		require.NoError(t, err, "toolchain %+v", tc)
		t.Logf("toolchain %+v: built in %s", tc, time.Since(start).Round(time.Millisecond))
		require.Equal(t, []build.Object{{Path: "fs/proc/uptime.o", Target: "vmlinux", Changed: []string{"uptime_proc_show"}}}, res.Objects)
		require.NoError(t, os.Rename(res.Module, filepath.Join(debug, "module.ko")))
		return debug, events
	}
	hostDir, hostEvents := build1(labTree(t, l), build.Toolchain{Mode: build.ToolchainAuto})
	assert.True(t, containsPrefix(hostEvents, "the host's compiler is the kernel's"), "auto picks the host: %q", hostEvents)
	assert.False(t, containsPrefix(hostEvents, "building in toolchain root"), "%q", hostEvents)
	rootDir, rootEvents := build1(labTree(t, l), build.Toolchain{Mode: build.ToolchainRoot, Dir: root.Dir})
	assert.True(t, containsPrefix(rootEvents, "building in toolchain root "+root.Dir), "%q", rootEvents)
	// The kernel as a Photon kernel's source offers it, the host's gcc-12
	// made to differ: auto mode provisions Photon-style RPMs of this root
	// from a Photon repository (photontoolchain_lab_test.go).
	photonDir, photonEvents, photonRoot := photonRootBuild(t, ctx, labTree(t, l), ccText, root, build1)
	assert.True(t, containsPrefix(photonEvents, "kernel built with"), "auto sees the host's compiler differ: %q", photonEvents)
	assert.True(t, containsPrefix(photonEvents, "building in toolchain root "+photonRoot.Dir), "%q", photonEvents)

	for _, p := range []string{"orig/fs/proc/uptime.o", "patched/fs/proc/uptime.o", "patch/fs/proc/uptime.o", "module/klpkit-hook.c", "module.ko"} {
		host, err := os.ReadFile(filepath.Join(hostDir, p))
		require.NoError(t, err)
		inRoot, err := os.ReadFile(filepath.Join(rootDir, p))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(host, inRoot), "%s differs between the host build and the root build (%d and %d bytes)", p, len(host), len(inRoot))
		inPhoton, err := os.ReadFile(filepath.Join(photonDir, p))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(host, inPhoton), "%s differs between the host build and the Photon root build (%d and %d bytes)", p, len(host), len(inPhoton))
	}

	// An out-of-tree module's livepatch (Options.OOTModule), whose two
	// sides kbuild builds with make -C the kbuild tree: the same module in
	// the root. Its debug information names the module's build copy in the
	// work directory (M=), so both builds use one work directory.
	kos, err := l.BuildModule(ctx, ootSrc, t.TempDir(), nil)
	require.NoError(t, err)
	require.Len(t, kos, 1)
	work := filepath.Join(openTempDir(t), "work")
	ootBuild := func(tc build.Toolchain) []byte {
		res, err := build.Run(ctx, build.Options{
			Source: labTree(t, l), Patches: []string{ootPatch}, Name: "klpkit-oot-fix", OutputDir: t.TempDir(),
			OOTModule: &build.OOTModule{Module: kos[0], Source: ootSrc}, Toolchain: tc, WorkDir: work,
		})
		require.NoError(t, err, "out-of-tree module, toolchain %+v", tc)
		data, err := os.ReadFile(res.Module)
		require.NoError(t, err)
		return data
	}
	assert.True(t, bytes.Equal(ootBuild(build.Toolchain{Mode: build.ToolchainHost}), ootBuild(build.Toolchain{Mode: build.ToolchainRoot, Dir: root.Dir})),
		"the out-of-tree module's livepatch differs between the host build and the root build")
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
