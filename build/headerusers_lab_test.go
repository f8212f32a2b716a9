// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestDebugHeaderUsersMatchKbuild: on the Debian lab kernel, the users of
// fs/proc/internal.h that vmlinux's line tables name are exactly the
// objects whose kbuild records (.cmd files, after make of fs/proc/ and the
// one includer outside it) list the header; and a header nearly every unit
// uses is over the limit.
func TestDebugHeaderUsersMatchKbuild(t *testing.T) {
	l := vmtest.RequireLab(t)
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without the source tree: run `make lab` (klplab prepare --source)")
	}
	const header, common = "fs/proc/internal.h", "include/linux/sched.h"
	start := time.Now()
	dwarf, gaps, err := debugHeaderUsers(l.SourceDir, l.HeadersDir, "x86", []string{l.Vmlinux}, []string{header, common})
	require.NoError(t, err)
	t.Logf("#include lines not followed: %d for %s, %d for %s: %v", len(gaps[header]), header, len(gaps[common]), common, gaps)
	assert.Empty(t, gaps[header], "every #include line that may lead to %s is followed", header)
	t.Logf("debug information of %s read in %s: %d users of %s, %d of %s", l.Vmlinux, time.Since(start).Round(time.Millisecond),
		len(dwarf[header]), header, len(dwarf[common]), common)

	// kbuild builds what the configuration enables in fs/proc/, and
	// fs/proc_namespace.c, the only file outside it that includes the header.
	args := append(lab.KbuildArgs(l.KernelRelease), "-j2", "fs/proc/", "fs/proc_namespace.o")
	cmd := exec.CommandContext(t.Context(), "make", args...)
	cmd.Dir = l.SourceDir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make %v: %s", args, out)
	kbuild, err := headerUsers(l.SourceDir, []string{header})
	require.NoError(t, err)

	require.NotEmpty(t, dwarf[header])
	assert.Equal(t, kbuild[header], dwarf[header], "debug information and kbuild agree on the users of %s", header)
	assert.Greater(t, len(dwarf[common]), DefaultMaxHeaderUsers)
	require.ErrorIs(t, checkHeaderUsers(common, len(dwarf[common]), DefaultMaxHeaderUsers), ErrUnsupportedPatch)
}
