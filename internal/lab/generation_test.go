// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
)

func TestParseGeneration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Generation
		dir  string
	}{
		{"", Bookworm61, "/lab"},
		{"6.1", Bookworm61, "/lab"},
		{"5.10", Bullseye510, "/lab/5.10"},
		{"6.1-rt", Bookworm61RT, "/lab/6.1-rt"},
		{"5.10-rt", "", ""},
		{"4.19", "", ""},
		{"5.1", "", ""},
		{"../x", "", ""},
	} {
		g, err := ParseGeneration(tc.in)
		if tc.want == "" {
			require.ErrorIs(t, err, ErrUnknownGeneration, "%q", tc.in)
			require.ErrorContains(t, err, "6.1, 5.10")
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		require.Equal(t, tc.want, g)
		require.Equal(t, tc.dir, g.Dir("/lab"))
	}
	require.True(t, Bullseye510.owns("5.10.0-46-amd64"))
	require.False(t, Bullseye510.owns("5.1.0-1-amd64"))
	require.True(t, Generation("").owns("6.1.0-57-amd64"))
	// A flavor is a generation of its own.
	require.True(t, Bookworm61RT.owns("6.1.0-57-rt-amd64"))
	require.False(t, Bookworm61RT.owns("6.1.0-57-amd64"))
	require.False(t, Bookworm61.owns("6.1.0-57-rt-amd64"))
	require.False(t, Bookworm61RT.owns("5.10.0-46-rt-amd64"))
	require.True(t, Bookworm61RT.RT())
	require.False(t, Bullseye510.RT())
}

func TestMetaTarget(t *testing.T) {
	rel := func(name, op, version string) []toolchain.Relation {
		return []toolchain.Relation{{Name: name, Op: op, Version: version}}
	}
	for _, tc := range []struct {
		name    string
		deps    [][]toolchain.Relation
		want    Kernel
		errLike string
	}{
		{"bullseye's", [][]toolchain.Relation{rel("linux-headers-5.10.0-46-amd64", "=", "5.10.262-1")}, Kernel{"5.10.0-46-amd64", "5.10.262-1"}, ""},
		{"after other dependencies", [][]toolchain.Relation{rel("linux-headers-5.10.0-46-common", "=", "5.10.262-1"), rel("linux-headers-5.10.0-46-amd64", "=", "5.10.262-1")}, Kernel{"5.10.0-46-amd64", "5.10.262-1"}, ""},
		{"another generation", [][]toolchain.Relation{rel("linux-headers-6.1.0-57-amd64", "=", "6.1.192-3")}, Kernel{}, "not a 5.10 kernel"},
		{"no exact version", [][]toolchain.Relation{rel("linux-headers-5.10.0-46-amd64", ">=", "5.10.262-1")}, Kernel{}, "without an exact version"},
		{"no headers", [][]toolchain.Relation{rel("linux-headers-5.10.0-46-common", "", "")}, Kernel{}, "no linux-headers-<release>"},
		{"nothing", nil, Kernel{}, "no linux-headers-<release>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := metaTarget(&toolchain.Package{Name: "linux-headers-amd64", Version: "5.10.262-1", Depends: tc.deps}, Bullseye510)
			if tc.errLike != "" {
				require.ErrorContains(t, err, tc.errLike)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, k)
			require.Equal(t, "linux-source-5.10", k.sourcePackage())
			require.Equal(t, "linux-image-5.10.0-46-amd64-dbg", k.dbgPackage())
		})
	}
}

func TestCCVersionText(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		config, want, errLike string
	}{
		{"CONFIG_X=y\nCONFIG_CC_VERSION_TEXT=\"gcc-10 (Debian 10.2.1-6) 10.2.1 20210110\"\nCONFIG_CC_IS_GCC=y\n", "gcc-10 (Debian 10.2.1-6) 10.2.1 20210110", ""},
		{"CONFIG_X=y\n", "", "no CONFIG_CC_VERSION_TEXT"},
	} {
		file := filepath.Join(dir, "config")
		require.NoError(t, os.WriteFile(file, []byte(tc.config), 0o644))
		got, err := ccVersionText(file)
		if tc.errLike != "" {
			require.ErrorContains(t, err, tc.errLike)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	_, err := ccVersionText(filepath.Join(dir, "none"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestKbuildOfGenerations(t *testing.T) {
	host := &Lab{KernelRelease: "6.1.0-57-amd64", HeadersDir: "/lib/modules/6.1.0-57-amd64/build"}
	require.Equal(t, []string{"CC=gcc-12", "HOSTCC=gcc-12", "KERNELRELEASE=6.1.0-57-amd64"}, host.MakeArgs())
	require.Nil(t, host.Root())
	h, err := host.KbuildHeaders()
	require.NoError(t, err)
	require.Equal(t, host.HeadersDir, h)

	rooted := &Lab{KernelRelease: "5.10.0-46-amd64", Compiler: "gcc-10", ToolchainRoot: "/lab/5.10/toolchain/roots/k",
		HeadersDir: "/lab/5.10/toolchain/roots/k/usr/src/linux-headers-5.10.0-46-amd64"}
	require.Equal(t, []string{"CC=gcc-10", "HOSTCC=gcc-10", "KERNELRELEASE=5.10.0-46-amd64"}, rooted.MakeArgs())
	require.Equal(t, rooted.ToolchainRoot, rooted.Root().Dir)
	h, err = rooted.KbuildHeaders()
	require.NoError(t, err)
	require.Equal(t, "/usr/src/linux-headers-5.10.0-46-amd64", h)

	rooted.HeadersDir = "/lab/5.10/toolchain/roots/other/usr/src/x"
	_, err = rooted.KbuildHeaders()
	require.ErrorContains(t, err, "not inside the toolchain root")
}

func TestRemoveOtherRoots(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"aaaa", "aaaa.lock", "bbbb", "bbbb.lock", ".tmp-cccc-1"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
	}
	removeOtherRoots(dir, "aaaa", slog.New(slog.DiscardHandler))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	require.Equal(t, []string{".tmp-cccc-1", "aaaa", "aaaa.lock"}, left)
}
