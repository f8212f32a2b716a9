// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	klpversion "github.com/klpkit/klpkit/internal/version"
)

// cli runs the command with a fake build.Run that records its options.
type cli struct {
	a        *app
	out, err bytes.Buffer
	got      *build.Options
	fail     error
	env      map[string]string
	tree     string // a source tree with .config and a vmlinux
	patch    string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{env: map[string]string{"HOME": "/home/u"}, tree: t.TempDir()}
	require.NoError(t, os.WriteFile(filepath.Join(c.tree, ".config"), []byte("CONFIG_LIVEPATCH=y\n"), 0o644))
	fakeVmlinux(t, c.tree, debianBanner)
	c.patch = filepath.Join(t.TempDir(), "fix.patch")
	require.NoError(t, os.WriteFile(c.patch, []byte("--- a/x.c\n+++ b/x.c\n"), 0o644))
	c.a = &app{stdout: &c.out, stderr: &c.err, getenv: func(k string) string { return c.env[k] },
		build: func(_ context.Context, o build.Options) (*build.Result, error) {
			c.got = &o
			if o.Progress != nil {
				o.Progress(buildReport(build.Event{Stage: build.StagePatch, Message: "testing patch file(s)", Total: 1}))
				o.Progress(buildReport(build.Event{Stage: build.StageLink, Message: "building patch module livepatch-fix.ko", Total: 1}))
			}
			if c.fail != nil {
				return nil, c.fail
			}
			return &build.Result{Module: filepath.Join(o.OutputDir, "livepatch-fix.ko"), Name: "livepatch-fix",
				Objects:  []build.Object{{Path: "fs/proc/cmdline.o", Target: "vmlinux", Changed: []string{"cmdline_proc_show"}}},
				Warnings: []string{"a warning"}}, nil
		}}
	return c
}

func (c *cli) run(args ...string) error {
	c.out.Reset()
	c.err.Reset()
	c.got = nil
	return c.a.run(context.Background(), args)
}

func TestHelpAndVersion(t *testing.T) {
	c := newCLI(t)
	for _, h := range []string{"-h", "--help"} {
		require.NoError(t, c.run(h), "help exits 0")
		assert.Contains(t, c.err.String(), "usage: kpatch-build")
		assert.Nil(t, c.got)
	}
	require.NoError(t, c.run("--version"))
	assert.Equal(t, version+"\nklpkit devel\n", c.out.String(), "kpatch-build's line, then klpkit's (a test binary has no VCS stamps)")
	assert.Equal(t, klpversion.Line(), "klpkit devel")
	assert.Nil(t, c.got, "--version builds nothing")
}

func TestAllOptions(t *testing.T) {
	c := newCLI(t)
	desc := filepath.Join(t.TempDir(), "desc.txt")
	require.NoError(t, os.WriteFile(desc, []byte("Fix CVE-2026-0001\n"), 0o644))
	second := filepath.Join(t.TempDir(), "second.patch")
	require.NoError(t, os.WriteFile(second, nil, 0o644))
	symvers := filepath.Join(t.TempDir(), "Module.symvers")
	require.NoError(t, os.WriteFile(symvers, nil, 0o644))
	out, kb, mods, dbg := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()

	// Patches may come before, between and after options.
	require.NoError(t, c.run(c.patch, "-s", c.tree, "-c", filepath.Join(c.tree, ".config"), "-v", filepath.Join(c.tree, "vmlinux"),
		"-j", "3", "-n", "my-fix.ko", "-o", out, "-R", "-D", desc, "--skip-compiler-check", second,
		"--kbuild", kb, "--symvers", symvers, "--modules-dir", mods, "--make-arg", "CC=gcc-12", "--make-arg=HOSTCC=gcc-12",
		"--cache", "/c", "--export-debug", dbg, "--partial-header-users", "-a", "6.1.0-56-amd64"))
	o := c.got
	require.NotNil(t, o)
	assert.Equal(t, []string{c.patch, second}, o.Patches)
	assert.Equal(t, "my-fix.ko", o.Name)
	assert.Equal(t, out, o.OutputDir)
	assert.True(t, o.NoReplace)
	assert.True(t, o.SkipCompilerCheck)
	assert.True(t, o.PartialHeaderUsers)
	assert.Equal(t, 3, o.Jobs)
	assert.Equal(t, "Fix CVE-2026-0001", o.Description)
	assert.Equal(t, "/c", o.CacheDir)
	assert.Equal(t, dbg, o.DebugDir)
	assert.False(t, o.KeepWork)
	assert.Empty(t, o.WorkDir, "build.Run makes and removes its own work directory")
	tree := o.Source.(*build.Tree)
	assert.Equal(t, &build.Tree{Release: "6.1.0-56-amd64", Dir: c.tree, KbuildDir: kb, Config: filepath.Join(c.tree, ".config"),
		Vmlinux: filepath.Join(c.tree, "vmlinux"), ModuleSymvers: symvers, ModulesDir: mods,
		MakeArgs: []string{"CC=gcc-12", "HOSTCC=gcc-12"}}, tree)

	assert.Equal(t, "Using source directory at "+c.tree+"\nKernel release 6.1.0-56-amd64\nTesting patch file(s)\n"+
		"Building patch module: livepatch-fix.ko\nPatched objects: vmlinux\nSUCCESS\n"+filepath.Join(out, "livepatch-fix.ko")+"\n", c.out.String())
	assert.Contains(t, c.err.String(), "[patch 0/1] testing patch file(s)\n")
	assert.Contains(t, c.err.String(), "WARNING: a warning\n")
}

func TestDefaults(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-s", c.tree, c.patch))
	o := c.got
	assert.Equal(t, []string{c.patch}, o.Patches)
	assert.Empty(t, o.Name, "build.Run names it livepatch-<patch>")
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, wd, o.OutputDir, "the current directory, passed explicitly")
	assert.False(t, o.NoReplace, "replace by default")
	assert.Zero(t, o.Jobs, "the CPU count")
	assert.Equal(t, "/home/u/.kpatch", o.CacheDir, "kpatch-build's cache")
	tree := o.Source.(*build.Tree)
	assert.Equal(t, filepath.Join(c.tree, ".config"), tree.Config)
	assert.Equal(t, filepath.Join(c.tree, "vmlinux"), tree.Vmlinux)
	assert.Equal(t, "6.1.0-56-amd64", tree.Release, "from the vmlinux banner")

	c.env["CACHEDIR"] = "/var/cache/kp"
	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Equal(t, "/var/cache/kp", c.got.CacheDir)
	require.NoError(t, c.run("-s", c.tree, "--cache", "none", c.patch))
	assert.Empty(t, c.got.CacheDir)
}

func TestDescriptionSpellings(t *testing.T) {
	c := newCLI(t)
	desc := filepath.Join(t.TempDir(), "d")
	require.NoError(t, os.WriteFile(desc, []byte("text"), 0o644))
	for _, flag := range []string{"-D", "--description"} {
		require.NoError(t, c.run("-s", c.tree, flag, desc, c.patch), flag)
		assert.Equal(t, "text", c.got.Description, flag)
	}
	// -d is upstream kpatch-build's debug, which takes no value: the file
	// becomes a second patch argument.
	require.NoError(t, c.run("-s", c.tree, "-d", desc, c.patch))
	assert.Empty(t, c.got.Description)
	assert.Equal(t, []string{desc, c.patch}, c.got.Patches)
	assert.True(t, c.got.KeepWork, "-d keeps the scratch files")
	require.NoError(t, os.RemoveAll(c.got.WorkDir))
}

func TestKeepWork(t *testing.T) {
	c := newCLI(t)
	for _, flag := range []string{"--debug", "-d", "-dd", "--skip-cleanup"} {
		require.NoError(t, c.run("-s", c.tree, flag, c.patch), flag)
		assert.True(t, c.got.KeepWork)
		require.DirExists(t, c.got.WorkDir)
		assert.Contains(t, c.out.String(), "Temporary files kept in "+c.got.WorkDir)
		require.NoError(t, os.RemoveAll(c.got.WorkDir))
	}
	require.NoError(t, c.run("-s", c.tree, "--debug", c.patch))
	assert.NotNil(t, c.got.Logger, "--debug logs every step")
	require.NoError(t, os.RemoveAll(c.got.WorkDir))
}

func TestSystemMapOnly(t *testing.T) {
	c := newCLI(t)
	tree := t.TempDir()
	sysmap := filepath.Join(tree, "System.map")
	require.NoError(t, os.WriteFile(sysmap, nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tree, ".config"), nil, 0o644))
	require.NoError(t, c.run("-s", tree, "--system-map", sysmap, "-a", "6.1.0-x", c.patch))
	bt := c.got.Source.(*build.Tree)
	assert.Empty(t, bt.Vmlinux)
	assert.Equal(t, sysmap, bt.SystemMap)
	assert.Equal(t, "6.1.0-x", bt.Release)
}

func TestErrors(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no patch", []string{"-s", c.tree}, "ERROR: no patch file(s) specified.\n"},
		{"no tree", []string{c.patch}, "ERROR: a kernel source tree is required (-s DIR); source RPMs: use auto_livepatch.\n"},
		{"unknown option", []string{"--frobnicate", c.patch}, "ERROR: unknown flag: --frobnicate.\n"},
		{"missing value", []string{c.patch, "-s"}, "ERROR: flag needs an argument: 's' in -s.\n"},
		{"bad jobs", []string{"-s", c.tree, "-j", "x", c.patch}, "invalid argument \"x\" for \"-j, --jobs\""},
		{"negative jobs", []string{"-s", c.tree, "-j", "-2", c.patch}, "ERROR: -j -2: the job count must be positive.\n"},
		{"bad make arg", []string{"-s", c.tree, "--make-arg", "gcc", c.patch}, "ERROR: --make-arg \"gcc\": want VAR=VALUE.\n"},
		{"missing patch", []string{"-s", c.tree, missing}, "ERROR: patch file " + missing + ": not found.\n"},
		{"patch is a dir", []string{"-s", c.tree, c.tree}, "ERROR: patch file " + c.tree + ": not a regular file.\n"},
		{"missing tree", []string{"-s", missing, c.patch}, "ERROR: kernel source directory " + missing + " not found.\n"},
		{"missing config", []string{"-s", c.tree, "-c", missing, c.patch}, "ERROR: config file " + missing + ": not found.\n"},
		{"missing vmlinux", []string{"-s", c.tree, "-v", missing, c.patch}, "ERROR: vmlinux " + missing + ": not found.\n"},
		{"missing description", []string{"-s", c.tree, "-D", missing, c.patch}, "ERROR: description file " + missing + " not found.\n"},
		{"source rpm", []string{"-r", "linux-6.1.10-1.ph5.src.rpm", c.patch}, "ERROR: -r/--sourcerpm linux-6.1.10-1.ph5.src.rpm: building from a kernel source RPM is not supported"},
		{"source rpm long", []string{"-s", c.tree, "--sourcerpm=x.src.rpm", c.patch}, "ERROR: -r/--sourcerpm x.src.rpm:"},
		{"target", []string{"-s", c.tree, "-t", "vmlinux", "-t", "modules", c.patch}, "ERROR: -t/--target vmlinux modules: custom make targets are not supported"},
		{"oot module without source", []string{"-s", c.tree, "--oot-module", "/lib/modules/x/extra/m.ko", c.patch}, "ERROR: --oot-module /lib/modules/x/extra/m.ko needs --oot-module-src DIR, the module's source directory the patches apply to.\n"},
		{"oot module old spelling without source", []string{"-s", c.tree, "-e", "m.ko", c.patch}, "ERROR: --oot-module m.ko needs --oot-module-src DIR"},
		{"oot source without module", []string{"-s", c.tree, "--oot-module-src", c.tree, c.patch}, "ERROR: --oot-module-src " + c.tree + " needs --oot-module FILE, the module's built .ko"},
		{"missing oot module", []string{"-s", c.tree, "--oot-module", missing, "--oot-module-src", c.tree, c.patch}, "ERROR: --oot-module " + missing + ": not found.\n"},
		{"oot module is a dir", []string{"-s", c.tree, "--oot-module", c.tree, "--oot-module-src", c.tree, c.patch}, "ERROR: --oot-module " + c.tree + ": not a regular file.\n"},
		{"missing oot source", []string{"-s", c.tree, "--oot-module", c.patch, "--oot-module-src", missing, c.patch}, "ERROR: --oot-module-src " + missing + ": not found.\n"},
		{"oot source is a file", []string{"-s", c.tree, "--oot-module", c.patch, "--oot-module-src", c.patch, c.patch}, "ERROR: --oot-module-src " + c.patch + ": not a directory.\n"},
		{"version mismatch", []string{"-s", c.tree, "-a", "6.1.0-1-amd64", c.patch}, "ERROR: Kernel version mismatch: 6.1.0-1-amd64 was specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.run(tc.args...)
			require.Error(t, err)
			assert.Contains(t, c.err.String(), tc.msg)
			assert.Nil(t, c.got, "nothing built")
		})
	}
}

func TestBuildFailure(t *testing.T) {
	c := newCLI(t)
	c.fail = fmt.Errorf("fs/proc/cmdline.o: %w", build.ErrNoChanges)
	err := c.run("-s", c.tree, c.patch)
	require.ErrorIs(t, err, build.ErrNoChanges)
	assert.Contains(t, c.err.String(), "ERROR: fs/proc/cmdline.o: no functional changes found.\n")
	assert.NotContains(t, c.out.String(), "SUCCESS")

	c.fail = errors.New("boom")
	require.Error(t, c.run("-s", c.tree, "--skip-cleanup", c.patch))
	assert.Contains(t, c.err.String(), "temporary files kept in "+c.got.WorkDir)
	require.NoError(t, os.RemoveAll(c.got.WorkDir))
}

// TestReplaceUnsupported runs the real build.Run for a 4.19 kernel
// without -R: it stops before building, and the CLI says so in
// kpatch-build's words and exits 1.
func TestReplaceUnsupported(t *testing.T) {
	c := newCLI(t)
	c.a.build = build.Run
	sysmap := filepath.Join(t.TempDir(), "System.map")
	require.NoError(t, os.WriteFile(sysmap, nil, 0o644))
	err := c.run("-s", c.tree, "--system-map", sysmap, "-a", "4.19.325-1.ph3", "-o", t.TempDir(), c.patch)
	require.ErrorIs(t, err, build.ErrReplaceUnsupported)
	assert.Equal(t, "ERROR: The kernel doesn't support klp replace.\n"+
		"Atomic replace needs Linux 5.1 or later: build with -R (--non-replace) for a module that stacks on the livepatches already loaded.\n", c.err.String())
	assert.Equal(t, "Using source directory at "+c.tree+"\nKernel release 4.19.325-1.ph3\n", c.out.String(), "nothing built")
}

// TestRunExitStatus checks the real entry point: failures return an error
// (main exits 1), help does not.
func TestRunExitStatus(t *testing.T) {
	var out, errw bytes.Buffer
	require.NoError(t, run([]string{"-h"}, &out, &errw))
	require.Error(t, run([]string{"-s", t.TempDir(), "/nonexistent.patch"}, &out, &errw))
	assert.Contains(t, errw.String(), "ERROR: patch file /nonexistent.patch: not found.")
}

func TestProgressBar(t *testing.T) {
	var out, errw bytes.Buffer
	p := newProgress(&out, &errw, true)
	p.event(build.Event{Stage: build.StageCompile, Message: "building original and patched objects", Total: 4})
	p.event(build.Event{Stage: build.StageCompile, Message: "built fs/proc/cmdline.o (vmlinux)", Done: 2, Total: 4})
	p.finish()
	assert.Equal(t, "Building original and patched objects\n", out.String())
	assert.Equal(t, "[>                   ] compile 0/4 building original and patched objects"+
		"\r\033[K[==========>         ] compile 2/4 built fs/proc/cmdline.o (vmlinux)\r\033[K", errw.String())
}

// buildReport is e as build.Run reports it.
func buildReport(e build.Event) klpkit.Progress {
	return klpkit.Progress{Op: klpkit.OpBuild, Step: string(e.Stage), Message: e.Message,
		Done: int64(e.Done), Total: int64(e.Total), Detail: e}
}
