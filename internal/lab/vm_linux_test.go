// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

const sampleSource = "../../testdata/lab/livepatch-sample"

// TestSampleLivepatchInVM proves the lab end to end, on each kernel
// generation: the sample livepatch is built against the lab headers with
// the kernel's own compiler (5.10's gcc-10 in its toolchain root), loaded
// in the guest, changes /proc/cmdline, and is disabled and removed again.
func TestSampleLivepatchInVM(t *testing.T) {
	for _, g := range lab.Generations {
		t.Run(string(g), func(t *testing.T) { sampleLivepatchInVM(t, g) })
	}
}

func sampleLivepatchInVM(t *testing.T, g lab.Generation) {
	const ko = "/lab/" + lab.SampleName + ".ko"
	vmtest.Run(t, vmtest.Config{
		Generation: g,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			start := time.Now()
			kos, err := l.BuildModule(t.Context(), sampleSource, t.TempDir(), nil)
			require.NoError(t, err)
			requireBuiltBy(t, l, kos[0])
			t.Logf("built %s for %s in %s", filepath.Base(kos[0]), l.KernelRelease, time.Since(start).Round(time.Millisecond))
			return []vmtest.File{{Guest: ko, Host: kos[0]}, {Guest: "/lab/release", Data: []byte(l.KernelRelease)}}
		},
	}, func(t *testing.T) {
		release, err := os.ReadFile("/lab/release")
		require.NoError(t, err)
		require.Equal(t, string(release)+"\n", readFile(t, "/proc/sys/kernel/osrelease"), "the guest runs the %s lab kernel", g)
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		before := readFile(t, "/proc/cmdline")
		require.Contains(t, before, "console=ttyS0")
		t.Logf("before: /proc/cmdline = %q", before)

		require.NoError(t, lab.LoadModule(ko))
		require.NoError(t, lab.WaitTransition(ctx, "/sys", lab.SampleName))
		during := readFile(t, "/proc/cmdline")
		t.Logf("during: /proc/cmdline = %q", during)
		require.Equal(t, lab.SampleMarker+"\n", during)
		dir := lab.LivepatchDir("/sys", lab.SampleName)
		require.Equal(t, "1\n", readFile(t, filepath.Join(dir, "enabled")))
		require.DirExists(t, filepath.Join(dir, "vmlinux", "cmdline_proc_show,1"))
		taint, err := strconv.Atoi(strings.TrimSpace(readFile(t, "/proc/sys/kernel/tainted")))
		require.NoError(t, err)
		require.NotZero(t, taint&(1<<15), "livepatch taint K missing: tainted=%d", taint)

		require.NoError(t, lab.DisableLivepatch(ctx, "/sys", lab.SampleName))
		require.NoDirExists(t, dir)
		require.Equal(t, before, readFile(t, "/proc/cmdline"), "after disable")
		require.NoError(t, lab.UnloadModule(ctx, lab.SampleName))
		require.NoDirExists(t, "/sys/module/"+lab.SampleName)
		require.Equal(t, before, readFile(t, "/proc/cmdline"), "after unload")
		t.Logf("after: /proc/cmdline restored, module removed")
	})
}

// requireBuiltBy checks that every compiler identification in the
// module's .comment is the one the lab kernel's config names: the module
// was built with the kernel's own compiler.
func requireBuiltBy(t *testing.T, l *lab.Lab, ko string) {
	t.Helper()
	cc, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	_, want, ok := strings.Cut(cc, " ")
	require.True(t, ok, "CONFIG_CC_VERSION_TEXT %q", cc)
	require.NoError(t, lab.CheckBuiltBy(ko, want))
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

// TestSourceTreeBuildsObject proves each generation's prepared source
// tree: one kernel object builds, with the kernel's compiler (5.10's in
// its toolchain root), with the section flags the object differ needs.
func TestSourceTreeBuildsObject(t *testing.T) {
	for _, g := range lab.Generations {
		t.Run(string(g), func(t *testing.T) { sourceTreeBuildsObject(t, g) })
	}
}

func sourceTreeBuildsObject(t *testing.T, g lab.Generation) {
	l := vmtest.RequireLabGeneration(t, g)
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without the source tree: run `make lab` (klplab prepare --source)")
	}
	obj := filepath.Join(l.SourceDir, "fs/proc/meminfo.o")
	os.Remove(obj) // build it now, with these flags
	err := l.Make(t.Context(), nil, l.SourceDir, nil, "KCFLAGS=-ffunction-sections -fdata-sections", "fs/proc/meminfo.o")
	require.NoError(t, err)
	requireBuiltBy(t, l, obj)
	f, err := elf.Open(obj)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, elf.ET_REL, f.Type)
	require.NotNil(t, f.Section(".text.meminfo_proc_show"), "no per-function section: -ffunction-sections not applied")
}
