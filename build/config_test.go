// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

func TestCheckConfig(t *testing.T) {
	good := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n# CONFIG_X86_KERNEL_IBT is not set\nCONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0\"\n"
	for _, tc := range []struct {
		name, config, says string
	}{
		{"good", good, ""},
		{"no livepatch", "CONFIG_MODULES=y\n", "CONFIG_LIVEPATCH"},
		{"no modules", "CONFIG_LIVEPATCH=y\n", "CONFIG_MODULES"},
		{"latent entropy", good + "CONFIG_GCC_PLUGIN_LATENT_ENTROPY=y\n", "latent-entropy"},
		{"randstruct", good + "CONFIG_RANDSTRUCT_FULL=y\n", "randomised"},
		{"ibt", good + "CONFIG_X86_KERNEL_IBT=y\n", "IBT"},
		{"split debug", good + "CONFIG_DEBUG_INFO_SPLIT=y\n", "split"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkConfig(parseKconfig([]byte(tc.config)))
			if tc.says == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrNotLivepatchable)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
	c := parseKconfig([]byte(good))
	assert.Equal(t, "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0", c["CONFIG_CC_VERSION_TEXT"], "quotes removed")
	_, unset := c["CONFIG_X86_KERNEL_IBT"]
	assert.False(t, unset, "\"is not set\" lines are not values")
}

// A line over bufio.Scanner's limit once hid every option after it, so an
// unsafe option past a long comment went unnoticed.
func TestCheckConfigAfterLongLine(t *testing.T) {
	config := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n# " + strings.Repeat("x", 2<<20) + "\nCONFIG_RANDSTRUCT_FULL=y\n"
	err := checkConfig(parseKconfig([]byte(config)))
	require.ErrorIs(t, err, ErrNotLivepatchable)
	assert.Contains(t, err.Error(), "CONFIG_RANDSTRUCT_FULL")
}

func TestAfterProgramName(t *testing.T) {
	for in, want := range map[string]string{
		"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0":       "(Debian 12.2.0-14+deb12u1) 12.2.0",
		"gcc (GCC) 12.2.0":                               "(GCC) 12.2.0",
		"(Debian 12.2.0-14+deb12u1) 12.2.0":              "(Debian 12.2.0-14+deb12u1) 12.2.0",
		"x86_64-linux-gnu-gcc-12 (Debian 12.2.0) 12.2.0": "(Debian 12.2.0) 12.2.0",
	} {
		assert.Equal(t, want, afterProgramName(in), in)
	}
}

func TestKernelCompilerFromConfig(t *testing.T) {
	got, err := kernelCompiler("", kconfig{"CONFIG_CC_VERSION_TEXT": "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"})
	require.NoError(t, err)
	assert.Equal(t, "(Debian 12.2.0-14+deb12u1) 12.2.0", got)
	_, err = kernelCompiler("", kconfig{})
	require.ErrorContains(t, err, "neither vmlinux .comment nor CONFIG_CC_VERSION_TEXT names the kernel's compiler")
}

// fakeTree writes a minimal kernel tree: a config and one C file.
func fakeTree(t *testing.T, config string) string {
	t.Helper()
	return fakeTreeIn(t, t.TempDir(), config)
}

// openFakeTree is fakeTree where the build user may read it by path, as
// a tree that Run compiles (as root, through that user) must be.
func openFakeTree(t *testing.T, config string) string {
	t.Helper()
	return fakeTreeIn(t, openTempDir(t), config)
}

func fakeTreeIn(t *testing.T, dir, config string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".config"), []byte(config), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fs/a.c"), []byte("int a(void)\n{\n\treturn 1;\n}\n"), 0o644))
	return dir
}

// openTempDir is a temporary directory that every user may read and pass
// through, as a kernel tree is: t.TempDir's parent is private to the
// caller, which the build user (nobody, when the tests run as root)
// cannot pass.
func openTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "klpkit-test-tree-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

func writePatch(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fix.patch")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

const fakePatch = "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n"

func TestRunRefusesBeforeBuilding(t *testing.T) {
	good := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"
	for _, tc := range []struct {
		name   string
		config string
		tree   func(dir string) *Tree
		is     error // the sentinel the refusal matches
		says   string
	}{
		{"not livepatchable", "CONFIG_MODULES=y\n", nil, ErrNotLivepatchable, "CONFIG_LIVEPATCH"},
		{"no symbols", good, func(dir string) *Tree { return &Tree{Release: "6.1.0-test", Dir: dir} }, ErrBadOptions, "vmlinux or System.map"},
		{"compiler mismatch", good + "CONFIG_CC_VERSION_TEXT=\"gcc (Imaginary 1.0) 1.0\"\n", nil, ErrCompilerMismatch, "Imaginary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTree(t, tc.config)
			tree := &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: filepath.Join(dir, "System.map"), MakeArgs: []string{"CC=true"}}
			if tc.tree != nil {
				tree = tc.tree(dir)
			}
			out := t.TempDir()
			_, err := Run(context.Background(), Options{Source: tree, Patches: []string{writePatch(t, fakePatch)}, OutputDir: out})
			require.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.says)
			entries, _ := os.ReadDir(out)
			assert.Empty(t, entries, "no output on failure")
		})
	}
}

func TestRunNeedsSourceAndPatches(t *testing.T) {
	_, err := Run(context.Background(), Options{Patches: []string{"x.patch"}})
	require.ErrorIs(t, err, ErrBadOptions)
	assert.Contains(t, err.Error(), "Source")
	_, err = Run(context.Background(), Options{Source: &Tree{Release: "r", Dir: t.TempDir()}})
	require.ErrorIs(t, err, ErrBadOptions)
	assert.Contains(t, err.Error(), "no patches")
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := fakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	_, err := Run(ctx, Options{Source: &Tree{Release: "r", Dir: dir, SystemMap: "x"}, Patches: []string{writePatch(t, fakePatch)}, OutputDir: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
}

// TestRunCancelDuringCompile cancels while the compiler runs: Run returns
// the context's error without waiting for the compiler, which never ends
// on its own (so a Run that waited would hang: the test binary's -timeout
// fails it), kills it, and writes nothing. No wall-clock figure: load
// cannot make it fail.
func TestRunCancelDuringCompile(t *testing.T) {
	dir := openFakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	tools := openTempDir(t)
	require.NoError(t, os.Chmod(tools, 0o777)) // the compiler runs as the build user and writes its pid here
	pidFile := filepath.Join(tools, "cc.pid")
	cc := filepath.Join(tools, "hangcc")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 86400\n"), 0o755))
	writeFile(t, filepath.Join(dir, "fs/.a.o.cmd"), "cmd_fs/a.o := "+cc+" -c -o fs/a.o fs/a.c\nsource_fs/a.o := fs/a.c\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	var compiling bool
	var watch sync.Once
	_, err := Run(ctx, Options{
		Source:  &Tree{Release: "r", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
		Patches: []string{writePatch(t, fakePatch)}, OutputDir: out, SkipCompilerCheck: true,
		Progress: klpkit.On(func(e Event) {
			compiling = compiling || e.Stage == StageCompile
			if e.Stage == StageCompile {
				watch.Do(func() { go waitAndCancel(ctx, pidFile, cancel) }) // cancels once the compiler has started
			}
		}),
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, compiling, "the compile stage had started")
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the compiler ran")
	assert.False(t, processRunning(t, strings.TrimSpace(string(pid))), "the cancelled compiler %s still runs", pid)
	entries, _ := os.ReadDir(out)
	assert.Empty(t, entries)
}

// waitAndCancel cancels once the fake compiler has written its pid.
func waitAndCancel(ctx context.Context, pidFile string, cancel context.CancelFunc) {
	for ctx.Err() == nil {
		if data, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(data), "\n") {
			cancel()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processRunning reports whether pid is a live process (not gone, not a
// zombie awaiting its parent).
func processRunning(t *testing.T, pid string) bool {
	t.Helper()
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	// "pid (comm) S ...": the state follows the last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	require.Positive(t, i, "%q", stat)
	state := strings.Fields(string(stat[i+1:]))[0]
	return state != "Z" && state != "X"
}
