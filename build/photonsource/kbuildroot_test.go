// SPDX-License-Identifier: Apache-2.0

package photonsource_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Where make runs in the tree follows Toolchain as build.Run's compiles
// do: on the host when its compiler is the kernel's (or the check is
// skipped); otherwise in a root of the kernel's toolchain, which this
// fixture's repository lacks (or, not as root, cannot be used): make never
// runs with the wrong compiler.
func TestKbuildToolchain(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	url := repo.Serve(t)
	fakeCC := func(t *testing.T, line string) string {
		cc := filepath.Join(t.TempDir(), "gcc-x")
		require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\necho '"+line+"'\n"), 0o755))
		return cc
	}
	for _, tc := range []struct {
		name    string
		tc      build.Toolchain
		ccLine  string
		skip    bool
		wantErr []error
	}{
		{name: "host", ccLine: "gcc-x (GCC) 12.2.0"},
		{name: "host, another compiler", ccLine: "gcc-x (GCC) 99.1.0", wantErr: []error{build.ErrCompilerMismatch}},
		{name: "host, check skipped", ccLine: "gcc-x (GCC) 99.1.0", skip: true},
		{name: "auto, the host's compiler is the kernel's", tc: build.Toolchain{Mode: build.ToolchainAuto}, ccLine: "gcc-x (GCC) 12.2.0"},
		{name: "auto, check skipped", tc: build.Toolchain{Mode: build.ToolchainAuto}, ccLine: "gcc-x (GCC) 99.1.0", skip: true},
		{name: "auto, another compiler", tc: build.Toolchain{Mode: build.ToolchainAuto}, ccLine: "gcc-x (GCC) 99.1.0",
			wantErr: []error{build.ErrToolchainUnavailable, build.ErrCompilerMismatch}},
		{name: "unknown mode", tc: build.Toolchain{Mode: "docker"}, wantErr: []error{build.ErrBadOptions}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, url)
			src.Prepare = kernelsrc.PrepareOptions{SkipCompilerCheck: tc.skip}
			src.MakeArgs = []string{"CC=" + fakeCC(t, tc.ccLine)}
			tc.tc.CacheDir = t.TempDir()
			src.Toolchain = tc.tc
			tree, err := src.Tree(t.Context())
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
			if os.Geteuid() != 0 && tc.tc.Mode == build.ToolchainAuto && len(tc.wantErr) > 0 {
				require.ErrorIs(t, err, toolchain.ErrNeedsRoot)
			}
			if len(tc.wantErr) > 0 {
				assert.Empty(t, makeLogs(t, src.Dir), "make ran")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{filepath.Join(tree.Dir, "make.log")}, makeLogs(t, src.Dir))
		})
	}
}

// makeLogs are the logs FakeMake left below dir.
func makeLogs(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "make.log" {
			out = append(out, p)
		}
		return err
	}))
	return out
}
