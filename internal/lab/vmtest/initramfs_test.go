// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavaliergopher/cpio"
	"github.com/stretchr/testify/require"
)

// readArchive decodes an initramfs with an independent cpio reader.
func readArchive(t *testing.T, data []byte) map[string]*cpio.Header {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	r := cpio.NewReader(zr)
	got := map[string]*cpio.Header{}
	contents := map[string][]byte{}
	for {
		hdr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(r)
		require.NoError(t, err)
		got[hdr.Name] = hdr
		contents[hdr.Name] = body
	}
	for name, body := range contents {
		require.Equal(t, got[name].Size, int64(len(body)), name)
	}
	return got
}

func TestWriteInitramfs(t *testing.T) {
	host := filepath.Join(t.TempDir(), "module.ko")
	require.NoError(t, os.WriteFile(host, []byte("\x7fELF odd length"), 0o600))
	var buf bytes.Buffer
	err := WriteInitramfs(&buf, []File{
		{Guest: "/init", Data: []byte("#!init")},
		{Guest: "/lab/deep/module.ko", Host: host},
		{Guest: "/etc/x", Data: []byte("abc"), Mode: 0o600},
	})
	require.NoError(t, err)
	got := readArchive(t, buf.Bytes())
	for _, dir := range []string{"dev", "proc", "sys", "tmp", "lab", "lab/deep", "etc"} {
		require.Contains(t, got, dir)
		require.True(t, got[dir].Mode.IsDir(), dir)
	}
	require.Equal(t, cpio.FileMode(0o755), got["init"].Mode.Perm())
	require.True(t, got["init"].Mode.IsRegular())
	require.Equal(t, int64(len("\x7fELF odd length")), got["lab/deep/module.ko"].Size)
	require.Equal(t, cpio.FileMode(0o644), got["lab/deep/module.ko"].Mode.Perm())
	require.Equal(t, cpio.FileMode(0o600), got["etc/x"].Mode.Perm())
	require.Equal(t, cpio.FileMode(cpio.TypeChar), got["dev/console"].Mode&cpio.ModeType)
}

func TestWriteInitramfsRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := map[string][]File{
		"relative path":   {{Guest: "init", Data: nil}},
		"root itself":     {{Guest: "/", Data: nil}},
		"duplicate":       {{Guest: "/a", Data: nil}, {Guest: "//a", Data: nil}},
		"missing host":    {{Guest: "/a", Host: filepath.Join(dir, "nope")}},
		"host is a dir":   {{Guest: "/a", Host: dir}},
		"clash with dirs": {{Guest: "/dev", Data: nil}},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			err := WriteInitramfs(io.Discard, files)
			require.Error(t, err)
			require.Contains(t, err.Error(), "initramfs")
		})
	}
}

func TestGuestNameStaysInsideRoot(t *testing.T) {
	for in, want := range map[string]string{
		"/init":          "init",
		"/a/../b":        "b",
		"/../../etc/x":   "etc/x",
		"/lab//x.ko":     "lab/x.ko",
		"/lab/./x/../y":  "lab/y",
		"/dev/../../../": "",
	} {
		got, err := guestName(in)
		if want == "" {
			require.ErrorContains(t, err, "initramfs:", in)
			require.ErrorContains(t, err, "guest path", in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func BenchmarkWriteInitramfs(b *testing.B) {
	data := bytes.Repeat([]byte("go test binary "), 1<<20) // 15 MiB
	files := []File{{Guest: "/init", Data: data}}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := WriteInitramfs(io.Discard, files); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPruneStaticCache(t *testing.T) {
	dir := t.TempDir()
	old, fresh, keep := filepath.Join(dir, "old.test"), filepath.Join(dir, "fresh.test"), filepath.Join(dir, "keep.test")
	for _, p := range []string{old, fresh, keep} {
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	past := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(old, past, past))
	require.NoError(t, os.Chtimes(keep, past, past))
	pruneStaticCache(dir, keep)
	require.NoFileExists(t, old)
	require.FileExists(t, fresh)
	require.FileExists(t, keep)
}
