// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixtures are made by rpmbuild (testdata/rpmpkg/make-fixtures.sh), so
// these tests cover real rpm output, not only rpmpack's.
const fixtureDir = "../testdata/rpmpkg"

func openFixture(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, name))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestExtractRPMBuildFixtures(t *testing.T) {
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			dest := t.TempDir()
			res, err := Extract(context.Background(), openFixture(t, "fixture-"+comp+"-1.0-1.ph5.x86_64.rpm"), dest, nil)
			require.NoError(t, err)
			info := res.Info
			assert.Equal(t, "fixture-"+comp, info.Name)
			assert.Equal(t, comp, info.PayloadCompressor)
			assert.True(t, info.Digests.HeaderVerified)
			assert.True(t, info.Digests.PayloadVerified)
			assert.Equal(t, []string{
				"usr/", "usr/bin/", "usr/bin/tool", "usr/bin/tool-hardlink", "usr/bin/tool-symlink",
				"usr/lib/", "usr/lib/debug/", "usr/lib/debug/.build-id/", "usr/lib/debug/.build-id/ab/",
				"usr/lib/debug/.build-id/ab/cdef.debug",
				"usr/lib/debug/lib/", "usr/lib/debug/lib/modules/", "usr/lib/debug/lib/modules/6.1.83-5.ph5/",
				"usr/lib/debug/lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5",
				"var/", "var/lib/", "var/lib/fixture-empty/",
			}, treeOf(t, dest))

			tool, err := os.Stat(filepath.Join(dest, "usr/bin/tool"))
			require.NoError(t, err)
			hard, err := os.Stat(filepath.Join(dest, "usr/bin/tool-hardlink"))
			require.NoError(t, err)
			assert.True(t, os.SameFile(tool, hard), "hard link kept")
			assert.Equal(t, os.FileMode(0o755), tool.Mode())
			assert.Equal(t, int64(1700000000), tool.ModTime().Unix())
			vmlinux, err := os.ReadFile(filepath.Join(dest, "usr/lib/debug/.build-id/ab/cdef.debug"))
			require.NoError(t, err, "build-id symlink resolves inside dest")
			assert.Equal(t, "\x7fELF fake vmlinux\n", string(vmlinux))
			target, err := os.Readlink(filepath.Join(dest, "usr/bin/tool-symlink"))
			require.NoError(t, err)
			assert.Equal(t, "tool", target)
		})
	}
}

func TestExtractRPMBuildVmlinuxOnly(t *testing.T) {
	dest := t.TempDir()
	want := "usr/lib/debug/lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5"
	res, err := Extract(context.Background(), openFixture(t, "fixture-xz-1.0-1.ph5.x86_64.rpm"), dest,
		&ExtractOptions{Filter: func(n string) bool { return n == want }})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	assert.Equal(t, want, res.Files[0].Name)
	assert.Equal(t, []string{"usr/", "usr/lib/", "usr/lib/debug/", "usr/lib/debug/lib/",
		"usr/lib/debug/lib/modules/", "usr/lib/debug/lib/modules/6.1.83-5.ph5/", want}, treeOf(t, dest))
}

func TestRPMBuildSourcePackage(t *testing.T) {
	info, err := Inspect(context.Background(), openFixture(t, "fixture-gzip-1.0-1.ph5.src.rpm"), nil)
	require.NoError(t, err)
	assert.True(t, info.Source)
	assert.True(t, info.Digests.PayloadVerified)
	spec, ok := info.File("fixture.spec")
	require.True(t, ok)
	assert.Equal(t, FlagSpecFile, spec.Flags)

	dest := t.TempDir()
	_, err = Extract(context.Background(), openFixture(t, "fixture-gzip-1.0-1.ph5.src.rpm"), dest, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"0001-fix.patch", "fixture-1.0.tar", "fixture.spec"}, treeOf(t, dest))
}

func TestReadRPMBuildScripts(t *testing.T) {
	info, err := Read(openFixture(t, "fixture-gzip-1.0-1.ph5.x86_64.rpm"))
	require.NoError(t, err)
	assert.Equal(t, "1.0", info.Version)
	assert.Equal(t, "1.ph5", info.Release)
	assert.Equal(t, "x86_64", info.Arch)
	assert.Equal(t, "fixtures", info.BuildHost)
	assert.False(t, info.Source)
	assert.False(t, info.Digests.PayloadVerified, "Read does not read the payload")
	assert.Contains(t, info.Requires, "rpmlib(CompressedFileNames) <= 3.0.4-1")
}
