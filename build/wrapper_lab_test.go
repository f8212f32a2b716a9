// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
)

// TestRunLabCcache builds the same livepatch from the lab tree twice: once
// with the object's kbuild command as the lab recorded it (gcc-12), once
// after `make CC="ccache gcc-12" <obj>` recorded it through ccache, with
// the same CC in the make arguments. The patch objects must be the same,
// and ccache must not have been called by klpkit at all.
func TestRunLabCcache(t *testing.T) {
	l := vmtest.RequireLab(t)
	if _, err := exec.LookPath("ccache"); err != nil {
		needtest.Missing(t, "needs ccache (apt-get install ccache)")
	}
	const obj, cmdFile = "fs/proc/uptime.o", "fs/proc/.uptime.o.cmd"
	shared := labTree(t, l)
	sharedCmd, err := os.ReadFile(filepath.Join(shared.Dir, cmdFile))
	require.NoError(t, err)

	// The lab tree is shared by every test: make runs in a copy whose
	// sources are links to it and whose build outputs are its own.
	dir := filepath.Join(t.TempDir(), "source")
	linkFarm(t, shared.Dir, dir, "fs/proc/uptime.c")
	tree := *shared
	tree.Dir = dir

	patch := filepath.Join(patchDir, "uptime-nonexported-call.patch")
	// As root, the build user follows the link farm's links by path. Where
	// the lab lies under root's home it may not: Run refuses the farm
	// before anything runs, naming a link, and the test builds as root;
	// elsewhere it builds as the build user.
	asRoot := false
	if os.Geteuid() == 0 && asuser.Check(t.Context(), asuser.Nobody(), shared.Dir, false, false, "the lab") != nil {
		var stages []build.Stage
		_, err := build.Run(t.Context(), build.Options{Source: &tree, Patches: []string{patch}, Name: "klpkit-ccache",
			OutputDir: t.TempDir(), Progress: klpkit.On(func(e build.Event) { stages = append(stages, e.Stage) })})
		require.ErrorIs(t, err, build.ErrBuildUserAccess)
		var ae *asuser.AccessError
		require.ErrorAs(t, err, &ae)
		assert.True(t, strings.HasPrefix(ae.Path, dir+string(filepath.Separator)), "a link of the farm is named: %v", err)
		assert.NotContains(t, stages, build.StageCompile, "refused before compiling")
		asRoot = true
	}
	run := func(tree *build.Tree) (*build.Result, string) {
		t.Helper()
		debug := t.TempDir()
		res, err := build.Run(t.Context(), build.Options{Source: tree, Patches: []string{patch}, Name: "klpkit-ccache",
			OutputDir: t.TempDir(), DebugDir: debug, BuildAsRoot: asRoot})
		require.NoError(t, err)
		return res, debug
	}
	plainRes, plainDebug := run(&tree)
	require.True(t, strings.Contains(readCmd(t, dir, cmdFile), ":= gcc-12 "), "the lab records plain gcc-12")

	ccacheDir := t.TempDir()
	t.Setenv("CCACHE_DIR", ccacheDir)
	var wrapped []string
	for _, a := range shared.MakeArgs {
		if strings.HasPrefix(a, "CC=") {
			a = "CC=ccache gcc-12"
		}
		wrapped = append(wrapped, a)
	}
	mk := exec.CommandContext(t.Context(), "make", append(wrapped, obj)...)
	mk.Dir = dir
	out, err := mk.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, readCmd(t, dir, cmdFile), ":= ccache gcc-12 ", "kbuild recorded the wrapper")
	before := ccacheStats(t)
	assert.NotContains(t, before, "cache_miss\t0\n", "make compiled through ccache")

	tree.MakeArgs = wrapped
	ccacheRes, ccacheDebug := run(&tree)
	assert.Equal(t, before, ccacheStats(t), "klpkit never ran ccache")

	assert.Equal(t, plainRes.Objects, ccacheRes.Objects)
	for _, f := range []string{"patch/" + obj, "orig/" + obj, "patched/" + obj} {
		a, err := os.ReadFile(filepath.Join(plainDebug, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(ccacheDebug, f))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "%s differs between the plain and the ccache tree", f)
	}
	now, err := os.ReadFile(filepath.Join(shared.Dir, cmdFile))
	require.NoError(t, err)
	assert.Equal(t, string(sharedCmd), string(now), "the shared lab tree is unchanged")
}

func readCmd(t *testing.T, dir, f string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, f))
	require.NoError(t, err)
	return string(data)
}

// ccacheStats is ccache's counters for CCACHE_DIR; any call changes them.
func ccacheStats(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ccache", "--print-stats").Output()
	require.NoError(t, err)
	return string(out)
}

// linkFarm makes dst a copy of the kernel tree src in which the files that
// came with the source (no newer than its top Makefile) are symlinks, as
// are whole directories the build wrote nothing in, and everything the
// build made is copied, with its time: make writes only to build outputs,
// which are then dst's own. The files in copies (tree-relative) are copied
// too: the patch applies to regular files only.
func linkFarm(t *testing.T, src, dst string, copies ...string) {
	t.Helper()
	top, err := os.Stat(filepath.Join(src, "Makefile"))
	require.NoError(t, err)
	fromSource := func(info fs.FileInfo) bool { return !info.ModTime().After(top.ModTime()) }
	built := map[string]bool{".": true}
	mark := func(rel string) {
		for d := filepath.Dir(rel); !built[d]; d = filepath.Dir(d) {
			built[d] = true
		}
	}
	for _, c := range copies {
		mark(c)
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !fromSource(info) {
			rel, _ := filepath.Rel(src, p)
			mark(rel)
		}
		return nil
	})
	require.NoError(t, err)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && built[rel]:
			return os.MkdirAll(to, 0o755)
		case d.IsDir():
			if err := os.Symlink(p, to); err != nil {
				return err
			}
			return filepath.SkipDir
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if fromSource(info) && !slices.Contains(copies, rel) {
			return os.Symlink(p, to)
		}
		return copyFile(p, to, info)
	})
	require.NoError(t, err)
}

func copyFile(from, to string, info fs.FileInfo) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(to, info.ModTime(), info.ModTime())
}
