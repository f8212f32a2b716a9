// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/rpmpkg"
)

var update = flag.Bool("update", false, "rewrite testdata/livepatch-cve-2024-1.ko")

const release = "6.1.138-2.ph5"

// testModule is the committed livepatch module the agent packages; it is
// kmodtest.BuildModule's image for the release (TestTestdataModule keeps
// the two equal, -update rewrites the file).
const testModule = "testdata/livepatch-cve-2024-1.ko"

func moduleImage() []byte {
	return kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "livepatch_cve_2024_1", Livepatch: true,
		Vermagic: release + " SMP preempt mod_unload modversions "})
}

func TestTestdataModule(t *testing.T) {
	if *update {
		require.NoError(t, os.WriteFile(testModule, moduleImage(), 0o644))
	}
	data, err := os.ReadFile(testModule)
	require.NoError(t, err)
	assert.Equal(t, moduleImage(), data, "go test -run TestTestdataModule -update rewrites it")
}

// host is a fake Photon host with one livepatch loaded.
func host(t *testing.T, rel string) *kmod.System {
	t.Helper()
	k := kmodtest.New(t, &kmodtest.Config{Release: rel})
	sys := k.System()
	ko, err := kmodtest.WriteModule(t.TempDir(), "livepatch-old.ko",
		kmodtest.ModuleSpec{Name: "livepatch_old", Livepatch: true, Vermagic: rel + " SMP preempt mod_unload modversions "})
	require.NoError(t, err)
	_, err = sys.Load(context.Background(), ko, &kmod.LoadOptions{Timing: kmodtest.FastTiming()})
	require.NoError(t, err)
	return sys
}

// tree writes a prepared kernel tree of one C file and a patch to it.
func tree(t *testing.T) (dir, patch string) {
	t.Helper()
	dir = t.TempDir()
	write := func(path, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	write(filepath.Join(dir, ".config"), "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	write(filepath.Join(dir, "fs/proc/cmdline.c"), "int cmdline(void)\n{\n\treturn 1;\n}\n")
	write(filepath.Join(dir, "System.map"), "")
	patch = filepath.Join(t.TempDir(), "cve-2024-1.patch")
	write(patch, "--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1,4 +1,4 @@\n int cmdline(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n")
	return dir, patch
}

func runAgent(t *testing.T, sys *kmod.System, args ...string) (map[string]any, string, int) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(context.Background(), args, sys, &out, &errs)
	var r map[string]any
	if code == 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &r), out.String())
	}
	return r, errs.String(), code
}

func TestAgent(t *testing.T) {
	sys := host(t, release)
	dir, patch := tree(t)
	out := filepath.Join(t.TempDir(), "out")
	r, stderr, code := runAgent(t, sys, "-tree", dir, "-system-map", filepath.Join(dir, "System.map"), "-patch", patch,
		"-skip-compiler-check", "-module", testModule, "-o", out)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, release, r["kernel"], "the running kernel")
	assert.Equal(t, true, r["livepatchable"])
	loaded := r["loaded"].([]any)
	require.Len(t, loaded, 1)
	assert.Equal(t, "livepatch_old", loaded[0].(map[string]any)["name"])

	require.NotNil(t, r["plan"], "plan error: %v", r["plan_error"])
	plan, _ := json.Marshal(r["plan"])
	assert.Contains(t, string(plan), `"fs/proc/cmdline.o"`, "the object a build would compile")
	assert.Contains(t, string(plan), filepath.Join(out, "livepatch-cve-2024-1.ko"))
	assert.NoFileExists(t, filepath.Join(out, "livepatch-cve-2024-1.ko"), "a plan builds nothing")

	rpmPath := filepath.Join(out, "livepatch-cve-2024-1-1-1.ph5.x86_64.rpm")
	assert.Equal(t, rpmPath, r["rpm"])
	f, err := os.Open(rpmPath)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Read(f)
	require.NoError(t, err)
	assert.Equal(t, "livepatch-cve-2024-1", info.Name)
	assert.Contains(t, info.Scripts.PreUn, "livepatch_cve_2024_1", "the scriptlets unload the module by its own name")
}

func TestAgentRefusals(t *testing.T) {
	dir, patch := tree(t)
	for _, tc := range []struct {
		name, release, reason string
	}{
		{"flavor without livepatch", "6.1.138-2.ph5-esx", "flavor-not-supported"},
		{"release too old", "4.4.8-1.ph1", "release-too-old"},
		{"not photon", "6.1.0-56-amd64", "unparsable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, stderr, code := runAgent(t, host(t, tc.release), "-tree", dir, "-system-map", filepath.Join(dir, "System.map"),
				"-patch", patch, "-module", testModule, "-o", t.TempDir())
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, false, r["livepatchable"])
			assert.Equal(t, tc.reason, r["reason"])
			assert.NotEmpty(t, r["refusal"])
			assert.NotContains(t, r, "plan", "no plan for a kernel that cannot take it")
			assert.NotContains(t, r, "rpm")
			assert.Len(t, r["loaded"], 1, "the loaded patches are reported all the same")
		})
	}
}

func TestAgentPlanError(t *testing.T) {
	dir, _ := tree(t)
	bad := filepath.Join(t.TempDir(), "bad.patch")
	require.NoError(t, os.WriteFile(bad, []byte("--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1,4 +1,4 @@\n int cmdline(void)\n {\n-\treturn 9;\n+\treturn 2;\n }\n"), 0o644))
	r, stderr, code := runAgent(t, host(t, release), "-tree", dir, "-system-map", filepath.Join(dir, "System.map"),
		"-patch", bad, "-skip-compiler-check", "-o", t.TempDir())
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, r, "plan")
	assert.Contains(t, r["plan_error"], "fs/proc/cmdline.c", "why the patch cannot be built")
}

func TestAgentModuleForAnotherKernel(t *testing.T) {
	_, stderr, code := runAgent(t, host(t, "6.1.140-1.ph5"), "-module", testModule, "-o", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "livepatch-cve-2024-1.ko")
}

func TestUsage(t *testing.T) {
	var out, errs bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &kmod.System{}, &out, &errs))
	assert.Contains(t, out.String(), "-uname")
	assert.Equal(t, 2, run(context.Background(), []string{"-frobnicate"}, &kmod.System{}, &out, &errs))
	assert.Contains(t, errs.String(), "flag provided but not defined: -frobnicate")
}
