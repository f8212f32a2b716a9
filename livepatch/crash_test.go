// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The crash tests run Apply in a child process (this test binary again,
// selected by crashChildEnv) and SIGKILL it part way, then check that
// recovery leaves the tree fully old or fully new.
const (
	crashChildEnv = "KLPKIT_LIVEPATCH_CRASH_CHILD" // "root|patchfile"
	crashStepEnv  = "KLPKIT_LIVEPATCH_CRASH_STEP"  // kill self before this commit step; -1: print the count
	crashSeedEnv  = "KLPKIT_LIVEPATCH_CRASH_SEED"  // replay a logged seed
)

// TestApplyCrashChild is the child's body; without crashChildEnv it does nothing.
func TestApplyCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		return
	}
	root, patchFile, _ := strings.Cut(spec, "|")
	patches, err := ParseFiles([]string{patchFile}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	opts := &ApplyOptions{}
	if s := os.Getenv(crashStepEnv); s != "" {
		killAt, _ := strconv.Atoi(s)
		n := 0
		opts.step = func() {
			if n == killAt {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
			n++
		}
		defer func() { fmt.Printf("steps=%d\n", n) }()
	}
	if _, err := Apply(context.Background(), root, patches, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

// crashFixture is a generated tree and a patch that modifies, deletes and
// creates (some in new directories) a few hundred files.
type crashFixture struct {
	old, new map[string]fileState
	dirsOld  map[string]bool
	dirsNew  map[string]bool
	patch    string // patch file path
}

func newCrashFixture(t *testing.T, n int) *crashFixture {
	t.Helper()
	fx := &crashFixture{old: map[string]fileState{}, new: map[string]fileState{},
		dirsOld: map[string]bool{}, dirsNew: map[string]bool{}}
	var p strings.Builder
	body := func(name string, i int) []string {
		return []string{"/* " + name + " */", "int a" + strconv.Itoa(i) + ";", "int b;", "int c;", "int d;"}
	}
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	for i := range n {
		dir := fmt.Sprintf("d%d", i%7)
		name := fmt.Sprintf("%s/f%03d.c", dir, i)
		ls := body(name, i)
		switch {
		case i%10 == 9: // delete
			fx.old[name] = fileState{join(ls), 0o644}
			fx.dirsOld[dir], fx.dirsNew[dir] = true, true
			fmt.Fprintf(&p, "--- a/%s\n+++ /dev/null\n@@ -1,5 +0,0 @@\n", name)
			for _, l := range ls {
				p.WriteString("-" + l + "\n")
			}
		case i%10 == 8: // create, half of them in new directories
			if i%20 == 8 {
				name = fmt.Sprintf("new%d/sub/f%03d.c", i%3, i)
				fx.dirsNew[fmt.Sprintf("new%d", i%3)] = true
				fx.dirsNew[fmt.Sprintf("new%d/sub", i%3)] = true
			} else {
				fx.dirsNew[dir] = true
			}
			ls = body(name, i)
			fx.new[name] = fileState{join(ls), 0o644}
			fmt.Fprintf(&p, "--- /dev/null\n+++ b/%s\n@@ -0,0 +1,5 @@\n", name)
			for _, l := range ls {
				p.WriteString("+" + l + "\n")
			}
		default: // modify line 3
			fx.old[name] = fileState{join(ls), 0o644}
			nl := append([]string(nil), ls...)
			nl[2] = "long b; /* patched */"
			fx.new[name] = fileState{join(nl), 0o644}
			fx.dirsOld[dir], fx.dirsNew[dir] = true, true
			fmt.Fprintf(&p, "--- a/%s\n+++ b/%s\n@@ -1,5 +1,5 @@\n %s\n %s\n-%s\n+%s\n %s\n %s\n",
				name, name, ls[0], ls[1], ls[2], nl[2], ls[3], ls[4])
		}
	}
	fx.patch = filepath.Join(t.TempDir(), "many.patch")
	require.NoError(t, os.WriteFile(fx.patch, []byte(p.String()), 0o644))
	return fx
}

// crashDir is a fresh directory, on tmpfs where there is one: the kills
// test ordering, not durability, and syncing hundreds of files on a busy
// disk takes seconds per run.
func crashDir(t *testing.T) string {
	d, err := os.MkdirTemp("/dev/shm", "klpkit-crash-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// tree writes the old state into a fresh directory.
func (fx *crashFixture) tree(t *testing.T) string {
	root := crashDir(t)
	for name, st := range fx.old {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(st.Data), st.Mode))
	}
	return root
}

// state says whether root holds exactly the old or the new tree (files,
// contents, modes and directories; any leftover file is a difference).
func (fx *crashFixture) state(t *testing.T, root string) string {
	t.Helper()
	files := snapshot(t, root)
	dirs := map[string]bool{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != root {
			rel, _ := filepath.Rel(root, p)
			dirs[filepath.ToSlash(rel)] = true
		}
		return err
	}))
	same := func(want map[string]fileState, wantDirs map[string]bool) bool {
		if len(files) != len(want) || len(dirs) != len(wantDirs) {
			return false
		}
		for k, v := range want {
			if files[k] != v {
				return false
			}
		}
		for d := range wantDirs {
			if !dirs[d] {
				return false
			}
		}
		return true
	}
	switch {
	case same(fx.old, fx.dirsOld):
		return "old"
	case same(fx.new, fx.dirsNew):
		return "new"
	}
	var odd []string
	for k, v := range files {
		if w, ok := fx.new[k]; ok && w == v {
			continue
		}
		if w, ok := fx.old[k]; ok && w == v {
			continue
		}
		odd = append(odd, k)
	}
	slices.Sort(odd)
	return fmt.Sprintf("mixed (%d files, %d neither old nor new, e.g. %q)", len(files), len(odd), odd[:min(5, len(odd))])
}

const noStep = -2 // runCrashChild: no step kill, no step count

func runCrashChild(t *testing.T, root, patch string, step int, delay time.Duration) (out string, killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+root+"|"+patch)
	if step != noStep {
		cmd.Env = append(cmd.Env, crashStepEnv+"="+strconv.Itoa(step))
	}
	var b strings.Builder
	cmd.Stdout, cmd.Stderr = &b, &b
	require.NoError(t, cmd.Start())
	if delay > 0 {
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	if err != nil {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return b.String(), true
		}
		t.Fatalf("child: %v\n%s", err, b.String())
	}
	return b.String(), false
}

func crashSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, crashSeedEnv)
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	return seed
}

// afterCrash recovers root, by Recover on even iterations and by applying
// again on odd ones, and returns the state it then finds.
func afterCrash(t *testing.T, fx *crashFixture, root string, i int) string {
	t.Helper()
	if i%2 == 0 {
		require.NoError(t, Recover(root), "iteration %d", i)
		st := fx.state(t, root)
		require.Contains(t, []string{"old", "new"}, st, "iteration %d: after Recover", i)
		return st
	}
	before := fx.state(t, root)
	patches := mustParse(t, fx.patch)
	if _, err := Apply(context.Background(), root, patches, nil); err != nil {
		// The interrupted apply may have completed; recovery must then
		// have left it fully new, so applying again cannot work.
		require.True(t, errors.Is(err, ErrHunkFailed) || errors.Is(err, ErrFileMissing),
			"iteration %d: rerun after a kill (tree was %s): %v", i, before, err)
		require.Equal(t, "new", fx.state(t, root), "iteration %d: rerun refused", i)
		return "new"
	}
	require.Equal(t, "new", fx.state(t, root), "iteration %d: rerun", i)
	return "new"
}

// Kills at random times: Apply of 300 files in a child, SIGKILL after a
// random delay up to the time a whole uninterrupted run takes.
func TestApplyKilledAtRandomTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 50 child processes; not in -short")
	}
	fx := newCrashFixture(t, 300)
	root := fx.tree(t)
	start := time.Now()
	_, killed := runCrashChild(t, root, fx.patch, noStep, 0)
	full := time.Since(start)
	require.False(t, killed)
	require.Equal(t, "new", fx.state(t, root), "an uninterrupted apply")
	t.Logf("an uninterrupted run takes %v", full)

	rng := rand.New(rand.NewPCG(crashSeed(t), 15))
	counts := map[string]int{}
	for i := range 50 {
		root := fx.tree(t)
		delay := time.Duration(rng.Int64N(int64(full))) + time.Millisecond
		_, killed := runCrashChild(t, root, fx.patch, noStep, delay)
		_, jerr := os.Lstat(filepath.Join(root, journalName))
		mid := killed && jerr == nil
		st := afterCrash(t, fx, root, i)
		counts[fmt.Sprintf("killed=%v mid-commit=%v -> %s", killed, mid, st)]++
	}
	t.Logf("outcomes: %v", counts)
}

// Kills at chosen steps of the commit: the child counts its filesystem
// changes and kills itself before step k, for k drawn at random over the
// whole commit, plus the first and last steps.
func TestApplyKilledAtRandomSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 50 child processes; not in -short")
	}
	fx := newCrashFixture(t, 200)
	out, killed := runCrashChild(t, fx.tree(t), fx.patch, -1, 0)
	require.False(t, killed)
	var total int
	_, err := fmt.Sscanf(out[strings.Index(out, "steps="):], "steps=%d", &total)
	require.NoError(t, err, "child output: %s", out)
	require.Greater(t, total, 600, "steps in a commit of 200 files")
	t.Logf("a commit takes %d steps", total)

	rng := rand.New(rand.NewPCG(crashSeed(t), 15))
	steps := []int{0, 1, 2, total - 2, total - 1}
	for len(steps) < 50 {
		steps = append(steps, rng.IntN(total))
	}
	counts := map[string]int{}
	for i, k := range steps {
		root := fx.tree(t)
		_, killed := runCrashChild(t, root, fx.patch, k, 0)
		require.True(t, killed, "step %d of %d: the child was not killed", k, total)
		st := afterCrash(t, fx, root, i)
		counts[st]++
	}
	t.Logf("steps %v; outcomes %v", steps, counts)
	require.NotZero(t, counts["old"], "no kill left the tree old")
}
