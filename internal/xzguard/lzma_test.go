// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz/lzma"
)

func decodeLZMA(data []byte, opts *Options) ([]byte, error) {
	r, err := NewLZMAReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func lzmaWriter(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := lzma.NewWriter(&buf)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestLZMAValid(t *testing.T) {
	data := sample(200 << 10)
	for name, s := range map[string]func(t *testing.T) []byte{
		"xz --format=lzma":    func(t *testing.T) []byte { return xzTool(t, data, "--format=lzma") },
		"xz --format=lzma -9": func(t *testing.T) []byte { return xzTool(t, data, "--format=lzma", "-9") },
		"ulikunitz writer":    func(t *testing.T) []byte { return lzmaWriter(t, data) },
	} {
		t.Run(name, func(t *testing.T) {
			out, err := decodeLZMA(s(t), nil)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, out))
		})
	}
}

func TestHostileLZMA(t *testing.T) {
	valid := lzmaWriter(t, []byte("some payload, some payload, some payload"))
	withDict := func(dict uint32) []byte {
		return edit(valid, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[1:5], dict); return b })
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		opts  *Options
		kind  error
		words string
	}{
		{"4 GiB dictionary", withDict(1<<32 - 1), nil, ErrLimit, "lzma at byte 0: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit"},
		{"over a small cap", withDict(2 << 20), &Options{MaxDict: 1 << 20}, ErrLimit, "dictionary of 2 MiB exceeds the 1 MiB limit"},
		{"bad properties", edit(valid, func(b []byte) []byte { b[0] = 225; return b }), nil, ErrFormat, "bad properties byte 0xe1"},
		{"truncated header", valid[:7], nil, ErrFormat, "input ends inside the 13-byte header"},
		{"corrupt data", edit(valid, func(b []byte) []byte { b[20] ^= 0xff; b[13] = 0xff; return b }), nil, ErrFormat, "malformed stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeLZMA(tc.data, tc.opts)
			require.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), tc.words)
		})
	}
}

// TestLZMARefusalAtTheHeader: a dictionary over the limit is refused from
// the 13-byte header, before a decoder exists to allocate it
// (BenchmarkRefusal measures that): nothing past the header is read.
func TestLZMARefusalAtTheHeader(t *testing.T) {
	hostile := hostileLZMA(t)
	r := &countingReader{r: bytes.NewReader(hostile)}
	_, err := NewLZMAReader(r, nil)
	require.ErrorIs(t, err, ErrLimit)
	assert.Contains(t, err.Error(), "dictionary of 2147483647 bytes (about 2048 MiB) exceeds the 64 MiB limit")
	assert.Equal(t, lzma.HeaderLen, r.n, "bytes read before refusing")
}

// hostileLZMA asks for a 2 GiB dictionary with an unknown size: the
// decoder would take the full dictionary.
func hostileLZMA(t testing.TB) []byte {
	return edit(lzmaWriter(t, []byte("x")), func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[1:5], 1<<31-1)
		binary.LittleEndian.PutUint64(b[5:13], 1<<64-1)
		return b
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestLZMAIOError(t *testing.T) {
	boom := errors.New("network gone")
	valid := lzmaWriter(t, sample(10<<10))
	r, err := NewLZMAReader(io.MultiReader(bytes.NewReader(valid[:100]), iotestErrReader{boom}), nil)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrFormat)
}
