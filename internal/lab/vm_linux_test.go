// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/vmtest"
)

const sampleSource = "../../testdata/lab/livepatch-sample"

// TestSampleLivepatchInVM proves the lab end to end: the sample livepatch is
// built against the lab headers, loaded in the guest, changes /proc/cmdline,
// and is disabled and removed again.
func TestSampleLivepatchInVM(t *testing.T) {
	const ko = "/lab/" + lab.SampleName + ".ko"
	vmtest.Run(t, vmtest.Config{
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			kos, err := l.BuildModule(t.Context(), sampleSource, t.TempDir(), nil)
			require.NoError(t, err)
			return []vmtest.File{{Guest: ko, Host: kos[0]}}
		},
	}, func(t *testing.T) {
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

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

// TestSourceTreeBuildsObject proves the prepared source tree: one kernel
// object builds with the section flags the object differ needs.
func TestSourceTreeBuildsObject(t *testing.T) {
	l := vmtest.RequireLab(t)
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without the source tree: run `make lab` (klplab prepare --source)")
	}
	args := append(lab.KbuildArgs(l.KernelRelease), "KCFLAGS=-ffunction-sections -fdata-sections", "fs/proc/meminfo.o")
	obj := filepath.Join(l.SourceDir, "fs/proc/meminfo.o")
	os.Remove(obj) // build it now, with these flags
	cmd := exec.CommandContext(t.Context(), "make", args...)
	cmd.Dir = l.SourceDir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make fs/proc/meminfo.o:\n%s", out)
	f, err := elf.Open(obj)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, elf.ET_REL, f.Type)
	require.NotNil(t, f.Section(".text.meminfo_proc_show"), "no per-function section: -ffunction-sections not applied")
}
