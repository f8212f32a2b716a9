// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/toolchain"
)

// fakeCheck makes c's app check with a stand-in for build.Check that
// records its options and returns plan (or err).
func fakeCheck(c *cli, plan *build.Plan, err error) *build.Options {
	var got build.Options
	c.a.check = func(ctx context.Context, o build.Options) (*build.Plan, error) {
		got = o
		o.Progress(buildReport(build.Event{Stage: build.StagePatch, Message: "testing patch file(s)", Total: 1}))
		if err != nil {
			return nil, err
		}
		p := *plan
		p.Module = filepath.Join(o.OutputDir, o.Name+".ko")
		p.Name = o.Name
		return &p, nil
	}
	return &got
}

var cmdlinePlan = &build.Plan{Release: kernel, Compiler: "(GCC) 12.2.0", Replace: true,
	Changed: []string{"fs/proc/cmdline.c"}, Objects: []string{"fs/proc/cmdline.o"},
	FullBuildHeaders: []string{}, Warnings: []string{"hunk placed with offset 2"}}

func TestCheck(t *testing.T) {
	c := newCLI(t)
	got := fakeCheck(c, cmdlinePlan, nil)
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--rpm", "--export-debuginfo", "--check"))
	assert.Nil(t, c.got, "nothing is built")
	assert.NoDirExists(t, out, "nothing is written to the output directory")
	assert.NoDirExists(t, filepath.Join(c.a.root, defaultDebuginfo), "nor debug files")
	assert.Equal(t, out, got.OutputDir)
	assert.Empty(t, got.DebugDir)
	assert.False(t, got.KeepWork)
	assert.Same(t, c.src, got.Source, "the Source prepared, as a build gets it")
	assert.True(t, c.src.DryRun, "the check's Source provisions no toolchain root")
	assert.Equal(t, "Checking livepatch module fix for kernel "+kernel+" (dry run: nothing is built)\n"+
		"Testing patch file(s)\n"+
		"Kernel: "+kernel+"\nModule: "+filepath.Join(out, "fix.ko")+" (replaces earlier livepatches)\n"+
		"RPM: "+filepath.Join(out, "fix-1-1.ph5.x86_64.rpm")+"\n"+
		"Compiler: (GCC) 12.2.0\nChanged files: fs/proc/cmdline.c\nObjects to build: fs/proc/cmdline.o\n"+
		"CHECK PASSED: nothing was built\n", c.out.String())
	assert.Contains(t, c.err.String(), "WARNING: hunk placed with offset 2\n")
}

// A check whose kernel needs a toolchain root prints the root it would
// use: its packages, where from, and whether it is cached.
func TestCheckToolchain(t *testing.T) {
	c := newCLI(t)
	plan := *cmdlinePlan
	plan.Toolchain = build.NewToolchainPlan("(GCC) 12.2.0", "Photon 5.0 repositories http://repo/5.0/photon_release_5.0_x86_64", "/cache/roots/k", false,
		toolchain.List{{Name: "gcc", Version: "12.2.0-2.ph5", Arch: "x86_64", SHA256: "aa", Size: 2_500_000, URL: "http://repo/gcc.rpm"}})
	fakeCheck(c, &plan, nil)
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "--check"))
	assert.Contains(t, c.out.String(), "Objects to build: fs/proc/cmdline.o\n"+
		`Toolchain: toolchain root of "(GCC) 12.2.0" (not provisioned: 1 package(s), 2.5 MB to download) at /cache/roots/k from Photon 5.0 repositories http://repo/5.0/photon_release_5.0_x86_64`+"\n"+
		"  gcc 12.2.0-2.ph5 http://repo/gcc.rpm\n")

	c = newCLI(t)
	fakeCheck(c, &plan, nil)
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "--check", "--json"))
	got := decodeOne(t, c.out.String())
	tc := got["plan"].(map[string]any)["toolchain"].(map[string]any)
	assert.Equal(t, false, tc["cached"])
	assert.Equal(t, "/cache/roots/k", tc["dir"])
	assert.Equal(t, []any{map[string]any{"name": "gcc", "version": "12.2.0-2.ph5", "arch": "x86_64", "url": "http://repo/gcc.rpm", "size": 2.5e6}}, tc["packages"])
}

func TestCheckFails(t *testing.T) {
	c := newCLI(t)
	fakeCheck(c, nil, build.ErrNotLivepatchable)
	err := c.run("-k", kernel, "-p", c.patch, "--check")
	require.ErrorIs(t, err, build.ErrNotLivepatchable)
	assert.Contains(t, c.err.String(), "ERROR: Checking livepatch module failed: kernel not livepatchable\n")
	assert.NotContains(t, c.out.String(), "CHECK PASSED")
}

// decodeOne reads stdout as exactly one JSON object.
func decodeOne(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	require.NoError(t, dec.Decode(&got), "stdout is one JSON object: %s", stdout)
	assert.False(t, dec.More(), "nothing after the object")
	return got
}

func TestJSONBuild(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--rpm", "--json"))
	got := decodeOne(t, c.out.String())
	assert.Equal(t, true, got["ok"])
	assert.Equal(t, kernel, got["kernel"])
	assert.Equal(t, "fix", got["name"])
	assert.Equal(t, filepath.Join(out, "fix.ko"), got["module"])
	assert.Equal(t, filepath.Join(out, "fix-1-1.ph5.x86_64.rpm"), got["rpm"])
	for _, k := range []string{"objects", "changed_functions", "new_functions", "findings"} {
		assert.Equal(t, []any{}, got[k], k)
	}
	assert.NotContains(t, got, "check")
	assert.NotContains(t, got, "plan")
	assert.Contains(t, c.err.String(), "SUCCESS\nLivepatch module: "+filepath.Join(out, "fix.ko")+"\n", "status lines on stderr")
}

func TestJSONCheck(t *testing.T) {
	c := newCLI(t)
	fakeCheck(c, cmdlinePlan, nil)
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--check", "--json"))
	got := decodeOne(t, c.out.String())
	assert.Equal(t, true, got["ok"])
	assert.Equal(t, true, got["check"])
	assert.NotContains(t, got, "module", "nothing written")
	want := *cmdlinePlan
	want.Name, want.Module = "fix", filepath.Join(out, "fix.ko")
	data, err := json.Marshal(want)
	require.NoError(t, err)
	var wantPlan any
	require.NoError(t, json.Unmarshal(data, &wantPlan))
	assert.Equal(t, wantPlan, got["plan"], "the plan as package build marshals it")
	assert.Equal(t, []any{map[string]any{"severity": "warning", "message": "hunk placed with offset 2"}}, got["findings"])
}

func TestJSONFailureIsAnObject(t *testing.T) {
	c := newCLI(t)
	require.Error(t, c.run("-k", "garbage", "-p", c.patch, "--json"))
	got := decodeOne(t, c.out.String())
	assert.Equal(t, false, got["ok"])
	assert.Contains(t, got["error"], "Wrong kernel version detected: garbage")
	assert.Contains(t, c.err.String(), "ERROR: Wrong kernel version detected")
}

func TestJSONEventLines(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-o", t.TempDir(), "--json-events"))
	assert.Contains(t, c.out.String(), "SUCCESS\n", "status lines stay on stdout")
	var sources []string
	sc := bufio.NewScanner(strings.NewReader(c.err.String()))
	for sc.Scan() {
		var e struct {
			Time   string          `json:"time"`
			Source string          `json:"source"`
			Event  json.RawMessage `json:"event"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		assert.NotEmpty(t, e.Time)
		sources = append(sources, e.Source)
		if e.Source == "build" {
			want, err := json.Marshal(build.Event{Stage: build.StageLink, Message: "building patch module " + c.got.Name + ".ko", Total: 1})
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(e.Event))
		}
	}
	assert.Equal(t, []string{"build"}, sources, "the fake prepare reports nothing; the fake build one event")
}
