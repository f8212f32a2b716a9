// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"errors"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

var checkedLines = regexp.MustCompile(`^(\d+) function\(s\) hold changed lines`)

// labBuild builds patch against the 6.1 lab kernel and returns the
// result and the number of functions the changed-line check looked at.
func labBuild(t *testing.T, patch string) (*build.Result, int, error) {
	t.Helper()
	return labBuildOn(t, vmtest.RequireLab(t), patch)
}

// labBuildOn is labBuild against lab l (its variant of the patch, its
// toolchain).
func labBuildOn(t *testing.T, l *lab.Lab, patch string) (*build.Result, int, error) {
	t.Helper()
	checked := -1
	res, err := build.Run(t.Context(), build.Options{
		Source: labTree(t, l), Patches: []string{labPatch(l, patch)}, OutputDir: t.TempDir(),
		Toolchain: labToolchain(l),
		Progress: klpkit.On(func(e build.Event) {
			if m := checkedLines.FindStringSubmatch(e.Message); m != nil {
				checked, _ = strconv.Atoi(m[1])
			}
		}),
	})
	return res, checked, err
}

// TestChangedLinesCheckLab: the check runs in every build, and a module
// whose new code would never run is refused with the function and line.
func TestChangedLinesCheckLab(t *testing.T) {
	// 6.1 only: which functions hold the changed lines is gcc-12's
	// inlining of 6.1's fs/proc/array.c (the patch's context is 6.1's).
	t.Run("hot-to-cold", func(t *testing.T) {
		res, checked, err := labBuild(t, "comm-hot-to-cold.patch")
		require.NoError(t, err)
		require.Equal(t, []build.Object{{Path: "fs/proc/array.o", Target: "vmlinux",
			Changed: []string{"proc_task_name", "proc_pid_statm"}}}, res.Objects)
		// proc_task_name holds the printk and the format; proc_pid_statm
		// the new seq_puts (do_task_stat and proc_pid_status call
		// proc_task_name without inlining it).
		require.GreaterOrEqual(t, checked, 2, "the changed-line check ran")
	})
	// On every generation: the patch applies to 5.10 as it is.
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		t.Run("dead-new-function", func(t *testing.T) {
			_, _, err := labBuildOn(t, l, "cmdline-dead-new-function.patch")
			require.ErrorIs(t, err, build.ErrChangeNotPatched)
			var np *build.NotPatchedError
			require.True(t, errors.As(err, &np), "%v", err)
			require.Equal(t, "fs/proc/cmdline.o", np.Object)
			require.Equal(t, "klpkit_never_called", np.Function)
			require.Equal(t, "fs/proc/cmdline.c", np.File)
			require.Equal(t, 8, np.Line, "the first added line with code: the opening brace (the entry)")
			require.Contains(t, np.Reason, "never run")
		})
	})
}

// TestOnlyLineNumbersMovedLab: patches that only move line numbers are
// refused as such, both before compiling (a blank line) and by the
// differ (an #include that compiles to nothing), never for another
// reason, on every lab kernel generation (5.10: its variant of the
// #include patch).
func TestOnlyLineNumbersMovedLab(t *testing.T) {
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		t.Run("blank-line", func(t *testing.T) {
			_, _, err := labBuildOn(t, l, "cmdline-blank-line.patch")
			require.ErrorIs(t, err, build.ErrNoChanges)
			require.NotErrorIs(t, err, build.ErrUnsupportedPatch)
			require.ErrorContains(t, err, "no changed functions: only line numbers moved")
			require.ErrorContains(t, err, "fs/proc/cmdline.c")
		})
		t.Run("include", func(t *testing.T) {
			_, _, err := labBuildOn(t, l, "reboot-line-shift.patch")
			require.ErrorIs(t, err, build.ErrNoChanges)
			require.ErrorIs(t, err, objdiff.ErrOnlyLineNumbers)
			require.ErrorContains(t, err, "kernel/reboot.o: no changed functions: only line numbers moved")
		})
	})
}
