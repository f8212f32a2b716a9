// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/livepatch"
)

// fuzz2Dir holds a tree and a patch whose hunk only applies with fuzz 2, as
// kpatch's shadow-newpid.patch does on Debian's 6.1 (kernel/exit.c).
const fuzz2Dir = "testdata/fuzz2"

func TestOverlayFuzz(t *testing.T) {
	ps, err := livepatch.ParseFiles([]string{filepath.Join(fuzz2Dir, "teardown-fuzz2.patch")}, nil)
	require.NoError(t, err)
	for _, fuzz := range []int{0, 1} {
		_, err := makeOverlay(context.Background(), fuzz2Dir, filepath.Join(t.TempDir(), "ov"), ps, fuzz)
		require.ErrorIs(t, err, livepatch.ErrHunkFailed, "fuzz %d", fuzz)
		assert.Contains(t, err.Error(), "with fuzz 2 it would apply at line 14")
		assert.Contains(t, err.Error(), "--fuzz 2 in kpatch-build and auto_livepatch", "the error says how to opt in")
		assert.Contains(t, err.Error(), "build.Options.Fuzz")
	}

	ov, err := makeOverlay(context.Background(), fuzz2Dir, filepath.Join(t.TempDir(), "ov"), ps, 2)
	require.NoError(t, err)
	require.Len(t, ov.inexact, 1)
	p := ov.inexact[0]
	assert.Equal(t, livepatch.Placement{Source: p.Source, File: "kernel/teardown.c", Hunk: 1, Line: 14, NewLine: 14, Offset: 1, Fuzz: 2}, p)
	assert.Contains(t, p.String(), "kernel/teardown.c: hunk #1 applied at line 14 with fuzz 2, offset 1 line")
	ours, err := os.ReadFile(ov.path("kernel/teardown.c"))
	require.NoError(t, err)
	assert.Contains(t, string(ours), "\tdrop_cgroup(t);\n\n\tfree_shadow(t);\n\n\t/*\n", "after the call the patch did not know")

	// GNU patch -F2 (kpatch-build's patch step) gives the same file.
	bin, err := exec.LookPath("patch")
	if err != nil {
		needtest.Missing(t, "needs GNU patch to compare with")
	}
	gnu := t.TempDir()
	src, err := os.ReadFile(filepath.Join(fuzz2Dir, "kernel/teardown.c"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(gnu, "kernel/teardown.c"), string(src))
	abs, err := filepath.Abs(filepath.Join(fuzz2Dir, "teardown-fuzz2.patch"))
	require.NoError(t, err)
	cmd := exec.Command(bin, "-p1", "-F2", "--no-backup-if-mismatch", "-i", abs)
	cmd.Dir = gnu
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "Hunk #1 succeeded at 14 with fuzz 2 (offset 1 line).")
	theirs, err := os.ReadFile(filepath.Join(gnu, "kernel/teardown.c"))
	require.NoError(t, err)
	assert.Equal(t, string(theirs), string(ours))
	assert.False(t, strings.Contains(string(src), "free_shadow"), "the fixture tree is never written")
}

// TestRunFuzz: Run passes Fuzz through, reports the fuzzed hunk as an event
// while the build runs, and without fuzz its error says how to opt in.
func TestRunFuzz(t *testing.T) {
	dir := openFakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	src, err := os.ReadFile(filepath.Join(fuzz2Dir, "kernel/teardown.c"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "kernel/teardown.c"), string(src))
	// The compile fails at once: this test is about the patch stage.
	writeFile(t, filepath.Join(dir, "kernel/.teardown.o.cmd"), "cmd_kernel/teardown.o := false -c -o kernel/teardown.o kernel/teardown.c\nsource_kernel/teardown.o := kernel/teardown.c\n")
	patch, err := filepath.Abs(filepath.Join(fuzz2Dir, "teardown-fuzz2.patch"))
	require.NoError(t, err)
	run := func(fuzz int) ([]string, error) {
		var msgs []string
		_, err := Run(context.Background(), Options{
			Source:  &Tree{Release: "r", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
			Patches: []string{patch}, OutputDir: t.TempDir(), SkipCompilerCheck: true, Fuzz: fuzz,
			Progress: klpkit.On(func(e Event) {
				if e.Stage == StagePatch {
					msgs = append(msgs, e.Message)
				}
			}),
		})
		return msgs, err
	}
	_, err = run(0)
	require.ErrorIs(t, err, livepatch.ErrHunkFailed)
	assert.Contains(t, err.Error(), "--fuzz 2 in kpatch-build and auto_livepatch")

	msgs, err := run(2)
	require.Error(t, err, "the stand-in compiler fails")
	assert.Contains(t, err.Error(), "compile: kernel/teardown.o", "past the patch stage")
	assert.NotErrorIs(t, err, livepatch.ErrHunkFailed)
	assert.Contains(t, msgs, "hunk placed inexactly: "+patch+": kernel/teardown.c: hunk #1 applied at line 14 with fuzz 2, offset 1 line")
}
