// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSourceSpec() Spec {
	return Spec{
		Name: "linux", Version: "6.1.83", Release: "5.ph5", Arch: "src",
		Summary: "Kernel", License: "GPLv2", BuildTime: testEpoch,
		Files: []File{
			{Name: "linux.spec", Mode: 0o644, Body: []byte("Name: linux\nVersion: 6.1.83\n")},
			{Name: "linux-6.1.83.tar.xz", Mode: 0o644, Body: bytes.Repeat([]byte("tarball"), 1000)},
			{Name: "0001-fix.patch", Mode: 0o644, Body: []byte("--- a/x\n+++ b/x\n")},
			{Name: "config_x86_64", Mode: 0o644, Body: []byte("CONFIG_LIVEPATCH=y\n")},
		},
	}
}

func TestWriteSourcePackage(t *testing.T) {
	s := testSourceSpec()
	assert.Equal(t, "linux-6.1.83-5.ph5.src.rpm", s.FileName())
	raw := writeBytes(t, s)
	info, err := Inspect(context.Background(), bytes.NewReader(raw), nil)
	require.NoError(t, err)
	assert.True(t, info.Source)
	assert.Empty(t, info.SourceRPM)
	assert.Equal(t, "noarch", info.Arch, "rpmbuild-style ARCH tag; the file name says src")
	assert.True(t, info.Digests.HeaderVerified)
	assert.True(t, info.Digests.PayloadVerified)
	require.Len(t, info.Files, 4)
	assert.Equal(t, "0001-fix.patch", info.Files[0].Name)
	spec, ok := info.File("linux.spec")
	require.True(t, ok)
	assert.Equal(t, FlagSpecFile, spec.Flags)

	dest := t.TempDir()
	res, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.NoError(t, err)
	assert.Len(t, res.Files, 4)
	got, err := os.ReadFile(filepath.Join(dest, "linux.spec"))
	require.NoError(t, err)
	assert.Equal(t, s.Files[0].Body, got)
	assert.Equal(t, []string{"0001-fix.patch", "config_x86_64", "linux-6.1.83.tar.xz", "linux.spec"}, treeOf(t, dest))
	assert.Equal(t, raw, writeBytes(t, s), "source packages are reproducible too")
}

func TestWriteDebuginfoStyle(t *testing.T) {
	s := Spec{
		Name: "linux-debuginfo", Version: "6.1.83", Release: "5.ph5", Arch: "x86_64", BuildTime: testEpoch,
		Compressor: "xz",
		Files: []File{
			{Name: "/usr/lib/debug/lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5", Mode: 0o644, Body: []byte("\x7fELF vmlinux")},
			{Name: "/usr/lib/debug/.build-id/ab/cdef.debug", Mode: fs.ModeSymlink | 0o777,
				LinkTarget: "../../lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5"},
		},
	}
	raw := writeBytes(t, s)
	dest := t.TempDir()
	res, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{
		Filter: func(n string) bool { return filepath.Base(n) == "vmlinux-6.1.83-5.ph5" },
	})
	require.NoError(t, err)
	require.Len(t, res.Files, 1)
	assert.Equal(t, "usr/lib/debug/lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5", res.Files[0].Name)

	dest = t.TempDir()
	_, err = Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dest, "usr/lib/debug/.build-id/ab/cdef.debug"))
	require.NoError(t, err, "the relative build-id link resolves inside dest")
	assert.Equal(t, "\x7fELF vmlinux", string(got))
}

func TestWriteRejectsBadSpec(t *testing.T) {
	tests := map[string]func(s *Spec){
		"relative path in binary": func(s *Spec) { s.Source, s.Arch = false, "x86_64" },
		"dir in source file":      func(s *Spec) { s.Files[0].Name = "sub/linux.spec" },
		"duplicate file":          func(s *Spec) { s.Files[1].Name = s.Files[0].Name },
		"no release":              func(s *Spec) { s.Release = "" },
		"symlink without target":  func(s *Spec) { s.Files[0].Mode = fs.ModeSymlink },
		"device":                  func(s *Spec) { s.Files[0].Mode = fs.ModeDevice },
		"bad relation":            func(s *Spec) { s.Requires = []string{"a", "b >="} },
		"unknown compressor":      func(s *Spec) { s.Compressor = "brotli" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			s := testSourceSpec()
			mutate(&s)
			var buf bytes.Buffer
			err := Write(&buf, s)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidSpec), "%v", err)
			assert.Zero(t, buf.Len())
		})
	}
}

func TestParseSourceDateEpoch(t *testing.T) {
	got, err := ParseSourceDateEpoch("1700000000\n")
	require.NoError(t, err)
	assert.Equal(t, testEpoch, got)
	for _, bad := range []string{"", "abc", "-1", "99999999999"} {
		_, err := ParseSourceDateEpoch(bad)
		assert.Error(t, err, bad)
	}
}

func TestRelationsRoundTrip(t *testing.T) {
	s := testSourceSpec()
	s.Source, s.Arch = false, "x86_64"
	s.Files = []File{{Name: "/x", Mode: 0o644, Body: []byte("x")}}
	s.Requires = []string{"kpatch >= 0.9.8", "a < 2", "b <= 3", "c = 4", "d > 5", "e"}
	s.Conflicts = []string{"old-livepatch"}
	s.Obsoletes = []string{"livepatch-prev < 2"}
	info, err := Read(bytes.NewReader(writeBytes(t, s)))
	require.NoError(t, err)
	assert.Equal(t, s.Requires, info.Requires)
	assert.Equal(t, s.Conflicts, info.Conflicts)
	assert.Equal(t, s.Obsoletes, info.Obsoletes)
}
