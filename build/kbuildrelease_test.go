// SPDX-License-Identifier: Apache-2.0

package build

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// debianTree writes a tree shaped like Debian's linux-headers and prepared
// linux-source: kernel.release holds the upstream version, utsrelease.h
// the package's release, which vermagic carries.
func debianTree(t *testing.T, dir, cfg, upstream, uts string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, ".config"), cfg)
	if upstream != "" {
		writeFile(t, filepath.Join(dir, "include/config/kernel.release"), upstream+"\n")
	}
	if uts != "" {
		writeFile(t, filepath.Join(dir, "include/generated/utsrelease.h"), "#define UTS_RELEASE \""+uts+"\"\n")
	}
}

func TestKbuildRelease(t *testing.T) {
	for _, tc := range []struct {
		name, upstream, uts, want string
	}{
		{"debian", "6.1.192", "6.1.0-57-amd64", "6.1.0-57-amd64"},
		{"upstream-style, both agree", "6.1.192-1.ph5", "6.1.192-1.ph5", "6.1.192-1.ph5"},
		{"kernel.release only", "6.1.192-1.ph5", "", "6.1.192-1.ph5"},
		{"not prepared", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			debianTree(t, dir, "", tc.upstream, tc.uts)
			got, err := KbuildRelease(dir)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "include/generated/utsrelease.h"), "/* empty */\n")
	_, err := KbuildRelease(dir)
	require.ErrorContains(t, err, "no UTS_RELEASE definition")
	assert.Contains(t, err.Error(), filepath.Join(dir, "include/generated/utsrelease.h"))
}

// TestCheckTreeMatchesDebianHeaders: the lab's layout, a prepared source
// tree and linux-headers, both with kernel.release 6.1.192 and UTS_RELEASE
// 6.1.0-57-amd64: accepted with no extra argument, and every make gets
// KERNELRELEASE (else kbuild would regenerate utsrelease.h as 6.1.192).
func TestCheckTreeMatchesDebianHeaders(t *testing.T) {
	cfg := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"
	src, headers := t.TempDir(), t.TempDir()
	debianTree(t, src, cfg, "6.1.192", "6.1.0-57-amd64")
	debianTree(t, headers, cfg, "6.1.192", "6.1.0-57-amd64")
	tree := &Tree{Release: "6.1.0-57-amd64", Dir: src, KbuildDir: headers, Config: filepath.Join(headers, ".config"),
		MakeArgs: []string{"CC=gcc-12"}}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))
	assert.Equal(t, []string{"CC=gcc-12", "KERNELRELEASE=6.1.0-57-amd64"}, tree.MakeArgs)
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))
	assert.Equal(t, []string{"CC=gcc-12", "KERNELRELEASE=6.1.0-57-amd64"}, tree.MakeArgs, "added once")

	tree.MakeArgs = []string{"KERNELRELEASE=6.1.0-57-amd64", "CC=gcc-12"}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))
	assert.Equal(t, []string{"KERNELRELEASE=6.1.0-57-amd64", "CC=gcc-12"}, tree.MakeArgs, "the caller's own is kept")

	// Headers of another ABI are refused by their UTS_RELEASE.
	tree.MakeArgs = nil
	tree.Release = "6.1.0-56-amd64"
	err := checkTreeMatches(tree, parseKconfig([]byte(cfg)))
	require.ErrorIs(t, err, ErrTreeMismatch)
	require.ErrorContains(t, err, "kbuild tree "+headers+" is for kernel 6.1.0-57-amd64, not 6.1.0-56-amd64")
	assert.Empty(t, tree.MakeArgs)

	// A tree whose two files agree needs nothing.
	same := t.TempDir()
	debianTree(t, same, cfg, "6.1.192-1.ph5", "6.1.192-1.ph5")
	tree = &Tree{Release: "6.1.192-1.ph5", Dir: same, KbuildDir: same, Config: filepath.Join(same, ".config")}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))
	assert.Empty(t, tree.MakeArgs)
}
