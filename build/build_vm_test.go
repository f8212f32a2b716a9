package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/vmtest"
	"github.com/klpkit/klpkit/kmod"
)

const patchDir = "../testdata/patches"

// labTree is the lab kernel as a build source: its prepared source tree
// for compiling, its headers for linking, Debian's vmlinux for symbols.
func labTree(t *testing.T, l *lab.Lab) *build.Tree {
	t.Helper()
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without the source tree: run `make lab` (klplab prepare --source)")
	}
	return &build.Tree{
		Release:   l.KernelRelease,
		Dir:       l.SourceDir,
		KbuildDir: l.HeadersDir,
		Config:    l.Config,
		Vmlinux:   l.Vmlinux,
		MakeArgs:  lab.KbuildArgs(l.KernelRelease),
	}
}

// buildPatch builds one module from patches against the lab kernel.
func buildPatch(t *testing.T, l *lab.Lab, name string, noReplace bool, patches ...string) string {
	t.Helper()
	var paths []string
	for _, p := range patches {
		paths = append(paths, filepath.Join(patchDir, p))
	}
	out := t.TempDir()
	start := time.Now()
	res, err := build.Run(t.Context(), build.Options{
		Source:    labTree(t, l),
		Patches:   paths,
		Name:      name,
		NoReplace: noReplace,
		OutputDir: out,
		Progress:  func(e build.Event) { t.Logf("build: %s: %s", e.Stage, e.Message) },
	})
	require.NoError(t, err)
	t.Logf("built %s in %v: %+v", res.Module, time.Since(start).Round(time.Millisecond), res.Objects)
	return res.Module
}

// effect is what a patch changes in the guest: the contents of a file.
type effect struct {
	file string // what to read, e.g. /proc/cmdline
	want string // a substring it shows only while the patch is live
}

func (e effect) read(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.file)
	require.NoError(t, err)
	return string(b)
}

// vmCase is one livepatch proven in the guest: built, loaded, its effect
// checked, unloaded, its effect gone.
type vmCase struct {
	name    string
	patches []string
	effects []effect
}

var vmCases = []vmCase{
	{name: "cmdline", patches: []string{"cmdline-string.patch"},
		effects: []effect{{"/proc/cmdline", " klpkit=cmdline-string\n"}}},
}

// TestPatchesInVM builds every patch of testdata/patches that must work,
// loads each module in the lab VM with package kmod, and checks its
// effect before, during and after.
func TestPatchesInVM(t *testing.T) {
	for _, c := range vmCases {
		t.Run(c.name, func(t *testing.T) {
			ko := "/klp/" + c.name + ".ko"
			vmtest.Run(t, vmtest.Config{
				Timeout: 3 * time.Minute,
				Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
					return []vmtest.File{{Guest: ko, Host: buildPatch(t, l, "", false, c.patches...)}}
				},
			}, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
				defer cancel()
				var sys kmod.System
				before := make([]string, len(c.effects))
				for i, e := range c.effects {
					before[i] = e.read(t)
					require.NotContains(t, before[i], e.want, "before loading")
				}
				res, err := sys.Load(ctx, ko, nil)
				require.NoError(t, err)
				for _, e := range c.effects {
					got := e.read(t)
					t.Logf("while loaded: %s = %q", e.file, got)
					require.Contains(t, got, e.want)
				}
				_, err = sys.Unload(ctx, res.Module.Name, nil)
				require.NoError(t, err)
				for i, e := range c.effects {
					require.Equal(t, before[i], e.read(t), "after unloading")
				}
			})
		})
	}
}

// refusalCase is a patch the pipeline must refuse, and why.
type refusalCase struct {
	patch string
	is    error  // the sentinel the error matches
	says  string // a phrase of the message
}

var refusalCases = []refusalCase{}

// TestRefusedPatches checks that patches a livepatch cannot carry are
// refused with an error naming the rule.
func TestRefusedPatches(t *testing.T) {
	l := vmtest.RequireLab(t)
	for _, c := range refusalCases {
		t.Run(strings.TrimSuffix(c.patch, ".patch"), func(t *testing.T) {
			_, err := build.Run(t.Context(), build.Options{
				Source: labTree(t, l), Patches: []string{filepath.Join(patchDir, c.patch)}, OutputDir: t.TempDir(),
			})
			require.Error(t, err)
			t.Logf("refused: %v", err)
			require.True(t, errors.Is(err, c.is), "error %v does not match %v", err, c.is)
			require.Contains(t, err.Error(), c.says)
		})
	}
}
