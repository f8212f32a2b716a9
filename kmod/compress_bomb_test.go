// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// compressAs compresses data the way kernel modules are: xz and zstd with a
// 1 MiB dictionary or window.
func compressAs(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case CompressGzip:
		w = gzip.NewWriter(&buf)
	case CompressXZ:
		w, err = xz.WriterConfig{DictCap: 1 << 20}.NewWriter(&buf)
	case CompressZstd:
		w, err = zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
	}
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// A compressed module whose first decompressed bytes are not ELF is refused
// at once: kpatch info on a bomb must not decompress it first.
func TestCompressedBombFailsOnMagic(t *testing.T) {
	bomb := make([]byte, 16<<20)
	for _, c := range []Compression{CompressGzip, CompressXZ, CompressZstd} {
		t.Run(c.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bomb.ko."+c.String())
			data := compressAs(t, c, bomb)
			require.Less(t, len(data), 1<<20)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			_, err := ReadModule(path)
			require.ErrorIs(t, err, ErrBadModule)
			assert.Contains(t, err.Error(), "magic number")
			assert.Contains(t, err.Error(), "in the first decompressed bytes", "refused at the start, not after the whole bomb")
		})
	}
}

// A module that starts like ELF but decompresses past the cap is cut off at
// the cap, for every format.
func TestCompressedSizeCapped(t *testing.T) {
	const limit = 1 << 20
	img := append([]byte("\x7fELF"), make([]byte, 3*limit)...)
	for _, c := range []Compression{CompressGzip, CompressXZ, CompressZstd} {
		t.Run(c.String(), func(t *testing.T) {
			data := compressAs(t, c, img)
			_, err := decompressModule(c, data, limit)
			require.ErrorIs(t, err, ErrModuleTooLarge)
			assert.Contains(t, err.Error(), "more than 1048576 bytes")

			out, err := decompressModule(c, compressAs(t, c, img[:limit]), limit)
			require.NoError(t, err, "exactly the cap passes")
			assert.Len(t, out, limit)
		})
	}
}

// Files on disk are read only up to the cap, whatever they are.
func TestReadModuleFileCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.ko")
	require.NoError(t, os.WriteFile(path, []byte("\x7fELF....."), 0o644))
	_, err := readModuleFile(path, 4)
	require.ErrorIs(t, err, ErrModuleTooLarge)
	assert.Contains(t, err.Error(), path)
}

// BenchmarkCompressedBomb shows what refusing costs (B/op): a 16 MiB bomb
// refused on its magic, and a 3 MiB image cut off at a 1 MiB cap, stay far
// below their decompressed sizes. Process-wide allocation figures belong
// in a benchmark, not in a test that runs beside others.
func BenchmarkCompressedBomb(b *testing.B) {
	const limit = 1 << 20
	bomb := make([]byte, 16<<20)
	big := append([]byte("\x7fELF"), make([]byte, 3*limit)...)
	for _, c := range []Compression{CompressGzip, CompressXZ, CompressZstd} {
		bombData, bigData := compressAs(b, c, bomb), compressAs(b, c, big)
		b.Run(c.String()+"/magic", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decompressModule(c, bombData, 64<<20); err == nil {
					b.Fatal("bomb accepted")
				}
			}
		})
		b.Run(c.String()+"/cap", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decompressModule(c, bigData, limit); err == nil {
					b.Fatal("image over the cap accepted")
				}
			}
		})
	}
}
