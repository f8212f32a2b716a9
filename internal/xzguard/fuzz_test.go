// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// FuzzXZGuard: the guard never panics, hands an accepted stream on
// unchanged, and whenever it accepts a stream the decoder decodes, the
// output is what xz.NewReader alone produces.
func FuzzXZGuard(f *testing.F) {
	f.Add(buildXZ(testBlock{data: "one"}, testBlock{data: "two", sizes: true}, testBlock{}))
	f.Add(buildXZ(testBlock{data: "x", dict: 40}))
	f.Add(buildXZ(testBlock{data: "x", filters: []byte{0x04, 0x00, 0x21, 0x01, 0x00}}))
	f.Add(append(append(buildXZ(testBlock{data: "a"}), 0, 0, 0, 0), buildXZ(testBlock{data: "b"})...))
	for _, cfg := range []xz.WriterConfig{{DictCap: 4 << 10}, {DictCap: 4 << 10, CheckSum: xz.SHA256, BlockSize: 64}} {
		var buf bytes.Buffer
		w, err := cfg.NewWriter(&buf)
		require.NoError(f, err)
		_, err = w.Write(sample(300))
		require.NoError(f, err)
		require.NoError(f, w.Close())
		f.Add(buf.Bytes())
	}
	// A small cap keeps the unguarded decoder's allocations small too.
	opts := &Options{MaxDict: 1 << 20}
	const maxOut = 64 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		passed, err := io.ReadAll(io.LimitReader(NewGuard(bytes.NewReader(data), opts), int64(len(data))+1))
		if err == nil {
			require.Equal(t, data, passed, "the guard changed an accepted stream")
		}

		r, err := NewXZReader(bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		got := sha256.New()
		if _, err := io.Copy(got, io.LimitReader(r, maxOut)); err != nil {
			return
		}
		// The guard approved the stream, so the plain decoder's dictionary
		// is bounded: safe to run it for comparison.
		plain, err := xz.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		want := sha256.New()
		_, err = io.Copy(want, io.LimitReader(plain, maxOut))
		require.NoError(t, err)
		require.Equal(t, want.Sum(nil), got.Sum(nil), "decoded output differs from xz.NewReader's")
	})
}

// FuzzLZMAGuard: never a panic, and an accepted .lzma stream decodes as
// lzma.NewReader alone decodes it.
func FuzzLZMAGuard(f *testing.F) {
	f.Add(lzmaWriter(f, []byte("some payload, some payload")))
	f.Add([]byte{0x5d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewLZMAReader(bytes.NewReader(data), &Options{MaxDict: 1 << 20})
		if err != nil {
			return
		}
		got := sha256.New()
		if _, err := io.Copy(got, io.LimitReader(r, 64<<20)); err != nil {
			return
		}
		plain, err := lzma.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		want := sha256.New()
		_, err = io.Copy(want, io.LimitReader(plain, 64<<20))
		require.NoError(t, err)
		require.Equal(t, want.Sum(nil), got.Sum(nil), "decoded output differs from lzma.NewReader's")
	})
}
