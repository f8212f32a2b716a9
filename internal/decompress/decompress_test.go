// SPDX-License-Identifier: Apache-2.0

package decompress_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"

	"github.com/klpkit/klpkit/internal/decompress"
)

func compress(t *testing.T, f decompress.Format, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch f {
	case decompress.Gzip:
		w = gzip.NewWriter(&buf)
	case decompress.XZ:
		w, err = xz.NewWriter(&buf)
	case decompress.Zstd:
		w, err = zstd.NewWriter(&buf)
	default:
		return data
	}
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestLimits(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for _, f := range []decompress.Format{decompress.None, decompress.Gzip, decompress.XZ, decompress.Zstd} {
		t.Run(f.String(), func(t *testing.T) {
			z := compress(t, f, data)
			assert.Equal(t, f, decompress.Detect(z))

			out, err := decompress.ReadAll(f, z, &decompress.Limits{MaxSize: int64(len(data))})
			require.NoError(t, err, "exactly the limit passes")
			assert.Equal(t, data, out)

			out, err = decompress.ReadAll(f, z, &decompress.Limits{MaxSize: int64(len(data)) - 1})
			require.ErrorIs(t, err, decompress.ErrTooLarge)
			assert.Contains(t, err.Error(), f.String())
			assert.Len(t, out, len(data)-1, "never more than the limit")

			if f != decompress.None {
				_, err = decompress.ReadAll(f, z[:len(z)/2], nil)
				require.Error(t, err, "truncated")
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for in, want := range map[string]decompress.Format{
		"":                     decompress.None,
		"\x7fELF":              decompress.None,
		"\x1f\x8b\x08":         decompress.Gzip,
		"\xfd7zXZ\x00\x00":     decompress.XZ,
		"\x28\xb5\x2f\xfd\x00": decompress.Zstd,
		"\xfd7zXZ":             decompress.None, // magic cut short
	} {
		assert.Equal(t, want, decompress.Detect([]byte(in)), "%q", in)
	}
}
