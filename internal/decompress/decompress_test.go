// SPDX-License-Identifier: Apache-2.0

package decompress_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"io"
	"strings"
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
	case decompress.Bzip2:
		// The standard library has no bzip2 writer: Python's bz2 made
		// this from 64 KiB of "0123456789abcdef", the data of TestLimits.
		z, err := hex.DecodeString("425a6839314159265359c9acb9cb0007ff89007fe03f003000b80a60009a14c001340aa8098099d00088004800260014000a8007c0016000b800600032001a000d80070003f000e800785dc914e1424326b2e72c")
		require.NoError(t, err)
		return z
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
	for _, f := range []decompress.Format{decompress.None, decompress.Gzip, decompress.XZ, decompress.Zstd, decompress.Bzip2} {
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
		"BZh91AY":              decompress.Bzip2,
		"BZhx":                 decompress.None, // no block size digit
	} {
		assert.Equal(t, want, decompress.Detect([]byte(in)), "%q", in)
	}
}

// A caller's TooLarge replaces the error past MaxSize; Cap bounds a plain
// stream exactly, a limit of 0 allowing nothing.
func TestTooLargeAndCap(t *testing.T) {
	mine := errors.New("mine")
	_, err := decompress.ReadAll(decompress.None, []byte("abcd"), &decompress.Limits{MaxSize: 3, TooLarge: func() error { return mine }})
	require.ErrorIs(t, err, mine)
	assert.NotErrorIs(t, err, decompress.ErrTooLarge)

	for _, tc := range []struct {
		in      string
		limit   int64
		wantErr bool
	}{
		{"abc", 3, false},
		{"abcd", 3, true},
		{"", 0, false},
		{"a", 0, true},
	} {
		out, err := io.ReadAll(decompress.Cap(strings.NewReader(tc.in), tc.limit, func() error { return mine }))
		if tc.wantErr {
			require.ErrorIs(t, err, mine, "%q within %d", tc.in, tc.limit)
			assert.Len(t, out, int(tc.limit))
		} else {
			require.NoError(t, err, "%q within %d", tc.in, tc.limit)
			assert.Equal(t, tc.in, string(out))
		}
	}
}
