// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRepackTarball(t *testing.T) {
	requireTools(t, "xz")
	dir := t.TempDir()
	src := filepath.Join(dir, "linux-source-6.1.tar.xz")
	writeTarXZ(t, src, fakeDebianTree())
	dst := filepath.Join(dir, "linux-6.1.192.tar.xz")
	version, err := repackTarball(t.Context(), src, dst, "linux-source-6.1", "linux-6.1.192", 2)
	require.NoError(t, err)
	require.Equal(t, "6.1.192", version)

	hdrs, bodies := readTarXZ(t, dst)
	for _, e := range fakeDebianTree() {
		name := "linux-6.1.192" + e.Name[len("linux-source-6.1"):]
		h, ok := hdrs[name]
		require.True(t, ok, "missing %s", name)
		require.Equal(t, e.Mode, h.Mode, name)
		require.Equal(t, 2026, h.ModTime.Year(), "mtime of %s", name)
		if e.Type == 0 {
			require.Equal(t, e.Body, bodies[name])
		}
	}
	require.Equal(t, "linux-6.1.192/scripts/tool.sh", hdrs["linux-6.1.192/scripts/alias.sh"].Linkname, "hard links move with the tree")
	require.Equal(t, "../Makefile", hdrs["linux-6.1.192/tools/Makefile"].Linkname, "symlinks are kept as they are")
	require.Len(t, hdrs, len(fakeDebianTree())+1, "entries plus the pax global header")
}

func TestRepackTarballErrors(t *testing.T) {
	requireTools(t, "xz")
	tests := []struct {
		name    string
		entries []fakeEntry
		want    string
	}{
		{"outside the top directory", append(fakeDebianTree(), fakeEntry{Name: "elsewhere/file", Body: "x", Mode: 0o644}), `"elsewhere/file" is outside linux-source-6.1/`},
		{"no Makefile", fakeDebianTree()[2:4], "no linux-source-6.1/Makefile"},
		{"Makefile without SUBLEVEL", []fakeEntry{{Name: "linux-source-6.1/Makefile", Body: "VERSION = 6\nPATCHLEVEL = 1\n", Mode: 0o644}}, "sets no SUBLEVEL"},
		{"hard link out of the tree", append(fakeDebianTree(), fakeEntry{Name: "linux-source-6.1/evil", Type: tar.TypeLink, Link: "/etc/passwd"}), "points outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "in.tar.xz")
			writeTarXZ(t, src, tt.entries)
			dst := filepath.Join(dir, "out.tar.xz")
			_, err := repackTarball(t.Context(), src, dst, "linux-source-6.1", "linux-6.1.192", 1)
			require.ErrorIs(t, err, ErrBadTarball)
			require.ErrorContains(t, err, tt.want)
			require.NoFileExists(t, dst, "no partial output")
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".out*"))
			require.Empty(t, leftovers, "temporary files removed")
		})
	}
	t.Run("not xz", func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(dir, "in.tar.xz")
		require.NoError(t, os.WriteFile(src, []byte("not a tarball at all"), 0o644))
		_, err := repackTarball(t.Context(), src, filepath.Join(dir, "out.tar.xz"), "a", "b", 1)
		require.Error(t, err)
		require.NoFileExists(t, filepath.Join(dir, "out.tar.xz"))
	})
}

func TestMakefileVersion(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n", "6.1.192", ""},
		{"VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n", "5.10.0-rc3", ""},
		{"VERSION=4\nPATCHLEVEL=19\nSUBLEVEL=325\n# VERSION = 9\nVERSION = 9\n", "4.19.325", ""},
		{"PATCHLEVEL = 1\nSUBLEVEL = 2\n", "", "sets no VERSION"},
		{"", "", "sets no VERSION"},
	}
	for _, tt := range tests {
		got, err := makefileVersion([]byte(tt.in))
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, "%q", tt.in)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}

func FuzzRetopTar(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "linux-source-6.1/Makefile", Mode: 0o644, Size: 40})
	tw.Write([]byte("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 2\n\n"))
	tw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		version, err := retopTar(bytes.NewReader(data), &out, "linux-source-6.1", "linux-6.1.2")
		if err == nil && version == "" {
			t.Fatal("success without a version")
		}
	})
}

// BenchmarkRetopTar measures the tar rewrite alone (xz excluded) on a
// stream of 2,000 small files, the shape of a kernel tree.
func BenchmarkRetopTar(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("int x;\n"), 1000)
	tw.WriteHeader(&tar.Header{Name: "linux-source-6.1/Makefile", Mode: 0o644, Size: 40})
	tw.Write([]byte("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 2\n\n"))
	for i := range 2000 {
		tw.WriteHeader(&tar.Header{Name: "linux-source-6.1/src/f" + strconv.Itoa(i) + ".c", Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	tw.Close()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := retopTar(bytes.NewReader(buf.Bytes()), io.Discard, "linux-source-6.1", "linux-6.1.2"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRepackTarballIsReadable(t *testing.T) {
	requireTools(t, "xz")
	dir := t.TempDir()
	src := filepath.Join(dir, "in.tar.xz")
	writeTarXZ(t, src, fakeDebianTree())
	dst := filepath.Join(dir, "out.tar.xz")
	_, err := repackTarball(t.Context(), src, dst, "linux-source-6.1", "linux-6.1.192", 1)
	require.NoError(t, err)
	fi, err := os.Stat(dst)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "a tarball others serve and read")
}
