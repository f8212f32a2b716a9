package kmod

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// compressAs compresses data the way kernel modules are: xz and zstd with a
// 1 MiB dictionary or window.
func compressAs(t *testing.T, c Compression, data []byte) []byte {
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

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
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
			var err error
			n := allocated(func() { _, err = ReadModule(path) })
			require.ErrorIs(t, err, ErrBadModule)
			assert.Contains(t, err.Error(), "magic")
			assert.Less(t, n, uint64(8<<20), "bytes allocated before refusing a %d-byte bomb", len(bomb))
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
			var err error
			n := allocated(func() { _, err = decompressModule(c, data, limit) })
			require.ErrorIs(t, err, ErrModuleTooLarge)
			assert.Contains(t, err.Error(), "more than 1048576 bytes")
			assert.Less(t, n, uint64(8<<20))

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
