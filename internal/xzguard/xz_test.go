// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"

	"github.com/klpkit/klpkit/internal/needtest"
)

// sample returns n bytes of text-like data with an incompressible stretch,
// so encoders write both LZMA and uncompressed LZMA2 chunks.
func sample(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("static int livepatch kernel module symbol func return struct klp_patch")
	var b bytes.Buffer
	for b.Len() < n/2 {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(" \n"[rng.IntN(2)])
	}
	for b.Len() < n {
		b.WriteByte(byte(rng.Uint32()))
	}
	return b.Bytes()[:n]
}

// xzTool compresses data with xz(1) and the given options.
func xzTool(t testing.TB, data []byte, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("xz"); err != nil {
		needtest.Missing(t, "needs xz(1) (xz-utils)")
	}
	cmd := exec.Command("xz", append([]string{"-c", "-T1"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "xz %v: %s", args, stderr.String())
	return out
}

func decodeGuarded(data []byte, opts *Options) ([]byte, error) {
	r, err := NewXZReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// requireGuardedEqual decodes data through the guard, expecting want, and
// checks the guard alone hands on the input byte for byte.
func requireGuardedEqual(t *testing.T, data, want []byte) {
	t.Helper()
	out, err := decodeGuarded(data, nil)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, out), "decoded %d bytes, want %d", len(out), len(want))
	passed, err := io.ReadAll(NewGuard(bytes.NewReader(data), nil))
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, passed), "the guard changed the stream")
}

func TestXZToolStreams(t *testing.T) {
	data := sample(300 << 10)
	for name, args := range map[string][]string{
		"default":          nil,
		"preset 0":         {"-0"},
		"preset 9":         {"-9"}, // a 64 MiB dictionary: exactly the default cap
		"multi-block":      {"--block-size=32KiB"},
		"sizes in headers": {"-T2", "--block-size=32KiB"},
		"check none":       {"--check=none", "--block-size=100KiB"},
		"check crc32":      {"--check=crc32"},
		"check crc64":      {"--check=crc64"},
		"sha256":           {"--check=sha256", "--block-size=64KiB"},
		"dict 4KiB":        {"--lzma2=dict=4KiB"},
		"lc4 pb0":          {"--lzma2=preset=1,lc=4,lp=0,pb=0"},
	} {
		t.Run(name, func(t *testing.T) {
			requireGuardedEqual(t, xzTool(t, data, args...), data)
		})
	}
	t.Run("empty", func(t *testing.T) {
		requireGuardedEqual(t, xzTool(t, nil), []byte{})
	})
	t.Run("concatenated with padding", func(t *testing.T) {
		a, b := data[:1000], data[1000:]
		s := append(xzTool(t, a, "--check=crc64"), 0, 0, 0, 0)
		s = append(s, xzTool(t, b, "--block-size=50KiB", "--check=sha256")...)
		s = append(s, make([]byte, 8)...)
		s = append(s, xzTool(t, nil)...)
		requireGuardedEqual(t, s, data)
	})
}

func TestUlikunitzWriterStreams(t *testing.T) {
	data := sample(200 << 10)
	for _, cfg := range []xz.WriterConfig{
		{},
		{CheckSum: xz.None, BlockSize: 16 << 10},
		{CheckSum: xz.CRC32},
		{CheckSum: xz.SHA256, BlockSize: 50 << 10},
		{DictCap: 4 << 10, BlockSize: 8 << 10},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := cfg.NewWriter(&buf)
			require.NoError(t, err)
			_, err = w.Write(data)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			requireGuardedEqual(t, buf.Bytes(), data)
		})
	}
}

// TestFilterChains: BCJ and delta chains pass the guard alone (xz(1)
// decodes what it hands on) but NewXZReader refuses them clearly, since
// ulikunitz/xz decodes LZMA2 alone.
func TestFilterChains(t *testing.T) {
	data := sample(100 << 10)
	for _, args := range [][]string{{"--x86", "--lzma2"}, {"--delta=dist=4", "--lzma2=preset=1"}, {"--x86=start=16", "--delta", "--lzma2"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			s := xzTool(t, data, args...)
			passed, err := io.ReadAll(NewGuard(bytes.NewReader(s), nil))
			require.NoError(t, err)
			require.Equal(t, s, passed)

			cmd := exec.Command("xz", "-dc")
			cmd.Stdin = NewGuard(bytes.NewReader(s), nil)
			out, err := cmd.Output()
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, out))

			_, err = decodeGuarded(s, nil)
			require.ErrorIs(t, err, ErrUnsupported)
			assert.Contains(t, err.Error(), "xz block 1 at byte 12: filter chain")
			assert.Contains(t, err.Error(), "the decoder handles LZMA2 alone")
		})
	}
}

func TestHandBuiltValid(t *testing.T) {
	s := buildXZ(testBlock{data: "hello "}, testBlock{data: "world", sizes: true}, testBlock{}, testBlock{data: "!", dict: 28})
	requireGuardedEqual(t, s, []byte("hello world!"))
}

// edit returns a copy of data with f applied.
func edit(data []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(data)) }

func TestHostileXZ(t *testing.T) {
	valid := buildXZ(testBlock{data: "one"}, testBlock{data: "two"})
	huge := func(block int, dict byte) []byte {
		blocks := []testBlock{{data: "one"}, {data: "two"}, {data: "three"}}
		blocks[block-1].dict = dict
		return buildXZ(blocks...)
	}
	bcj := []byte{0x04, 0x00, 0x21, 0x01, 0x00}
	for _, tc := range []struct {
		name  string
		data  []byte
		opts  *Options
		kind  error
		words string
	}{
		{"4 GiB dictionary in block 3", huge(3, 40), nil, ErrLimit, "xz block 3 at byte 60: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit"},
		{"96 MiB dictionary", huge(1, 29), nil, ErrLimit, "xz block 1 at byte 12: dictionary of 96 MiB exceeds the 64 MiB limit"},
		{"8 MiB over a 1 MiB cap", huge(2, 22), &Options{MaxDict: 1 << 20}, ErrLimit, "block 2 at byte 36: dictionary of 8 MiB exceeds the 1 MiB limit"},
		{"dictionary byte over 40", huge(1, 41), nil, ErrFormat, "bad LZMA2 properties 29"},
		{"empty input", nil, nil, ErrFormat, "xz at byte 0: input ends inside the stream header"},
		{"bad magic", []byte("not an xz stream at all"), nil, ErrFormat, "not an xz stream"},
		{"stream header crc", edit(valid, func(b []byte) []byte { b[8] ^= 1; return b }), nil, ErrFormat, "stream header checksum mismatch"},
		{"reserved check type", edit(valid, func(b []byte) []byte { copy(b, streamHeader(0x02)); return b }), nil, ErrUnsupported, "check type 0x2"},
		{"block header crc", edit(valid, func(b []byte) []byte { b[12+8] ^= 1; return b }), nil, ErrFormat, "xz block 1 at byte 12: block header checksum mismatch"},
		{"truncated block header", valid[:14], nil, ErrFormat, "input ends inside the block header"},
		{"chunk control 0x03", buildXZ(testBlock{data: "x", chunks: []byte{0x03, 0, 0}}), nil, ErrFormat, "bad LZMA2 chunk control byte 0x03"},
		{"chunk control 0x7f", buildXZ(testBlock{data: "x", chunks: []byte{0x7f}}), nil, ErrFormat, "bad LZMA2 chunk control byte 0x7f"},
		{"no dictionary reset", buildXZ(testBlock{data: "x", chunks: []byte{0x02, 0, 0, 'x', 0}}), nil, ErrFormat, "does not reset the dictionary"},
		{"LZMA chunk without properties", buildXZ(testBlock{data: "x", chunks: []byte{0x01, 0, 0, 'x', 0x80, 0, 0, 0, 0, 0}}), nil, ErrFormat, "sets no properties"},
		{"bad LZMA properties", buildXZ(testBlock{data: "x", chunks: []byte{0xe0, 0, 0, 0, 0, 225, 0}}), nil, ErrFormat, "bad LZMA properties byte 0xe1"},
		{"lc+lp over 4", buildXZ(testBlock{data: "x", chunks: []byte{0xe0, 0, 0, 0, 0, 3 + 9*2, 0}}), nil, ErrFormat, "bad LZMA properties byte"},
		{"truncated chunk data", valid[:28], nil, ErrFormat, "xz block 1 at byte 28: input ends inside the LZMA2 chunk data"},
		{"unknown filter", buildXZ(testBlock{data: "x", filters: []byte{0x42, 0x00, 0x21, 0x01, 0x00}}), nil, ErrUnsupported, "unknown filter 0x42"},
		{"LZMA2 not last", buildXZ(testBlock{data: "x", filters: []byte{0x21, 0x01, 0x00, 0x04, 0x00}}), nil, ErrFormat, "LZMA2 is not the last filter"},
		{"BCJ last", buildXZ(testBlock{data: "x", filters: []byte{0x04, 0x00}}), nil, ErrFormat, "the last filter is x86 BCJ, not LZMA2"},
		{"BCJ before LZMA2", buildXZ(testBlock{data: "x", filters: bcj}), nil, ErrUnsupported, "filter chain [x86 BCJ LZMA2]"},
		{"bad BCJ properties", buildXZ(testBlock{data: "x", filters: []byte{0x04, 0x01, 0x00, 0x21, 0x01, 0x00}}), nil, ErrFormat, "bad x86 BCJ properties 00"},
		{"compressed size mismatch", edit(buildXZ(testBlock{data: "abc", sizes: true}), func(b []byte) []byte {
			h := b[12:24]
			h[2]++ // the compressed size
			copy(h[8:], le32(crc32IEEE(h[:8])))
			return b
		}), nil, ErrFormat, "block data is 7 bytes, its header says 8"},
		{"non-zero block padding", edit(valid, func(b []byte) []byte { b[12+12+6+1] = 1; return b }), nil, ErrFormat, "non-zero block padding"},
		{"index count", edit(valid, func(b []byte) []byte { b[len(b)-12-12+1] = 3; return b }), nil, ErrFormat, "the index lists 3 blocks, the stream has 2"},
		{"index record", edit(valid, func(b []byte) []byte { b[len(b)-12-12+3] = 4; return b }), nil, ErrFormat, "the index records do not match the blocks"},
		{"index crc", edit(valid, func(b []byte) []byte { b[len(b)-13] ^= 1; return b }), nil, ErrFormat, "index checksum mismatch"},
		{"footer magic", edit(valid, func(b []byte) []byte { b[len(b)-1] = 'X'; return b }), nil, ErrFormat, "bad stream footer magic"},
		{"footer crc", edit(valid, func(b []byte) []byte { b[len(b)-12] ^= 1; return b }), nil, ErrFormat, "stream footer checksum mismatch"},
		{"stray bytes", append(bytes.Clone(valid), 0, 0), nil, ErrFormat, "2 stray bytes after the stream"},
		{"garbage stream", append(bytes.Clone(valid), "garbage!garbage!"...), nil, ErrFormat, "xz stream 2 at byte"},
		{"huge dictionary in stream 2", append(append(bytes.Clone(valid), 0, 0, 0, 0), huge(2, 40)...), nil, ErrLimit, "xz stream 2 block 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeGuarded(tc.data, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.Contains(t, err.Error(), tc.words)
			var ge *Error
			assert.True(t, errors.As(err, &ge), "not an *Error: %v", err)

			_, err = io.ReadAll(NewGuard(bytes.NewReader(tc.data), tc.opts))
			if !strings.Contains(tc.name, "BCJ before") {
				assert.ErrorIs(t, err, tc.kind, "the guard alone")
			}
		})
	}
}

// TestTruncatedEverywhere: every proper prefix of valid streams is refused
// as ErrFormat, by the guard alone and through the decoder.
func TestTruncatedEverywhere(t *testing.T) {
	var w bytes.Buffer
	zw, err := xz.WriterConfig{BlockSize: 1 << 10, CheckSum: xz.CRC64, DictCap: 4 << 10}.NewWriter(&w)
	require.NoError(t, err)
	_, err = zw.Write(sample(3 << 10))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	for _, s := range [][]byte{buildXZ(testBlock{data: "one"}, testBlock{sizes: true, data: "two"}), w.Bytes()} {
		for i := range len(s) {
			_, err := io.ReadAll(NewGuard(bytes.NewReader(s[:i]), nil))
			require.ErrorIs(t, err, ErrFormat, "prefix of %d bytes", i)
			_, err = decodeGuarded(s[:i], nil)
			require.ErrorIs(t, err, ErrFormat, "prefix of %d bytes", i)
		}
	}
}

// TestIOErrorPassesThrough: the input's own read error is not a format error.
func TestIOErrorPassesThrough(t *testing.T) {
	boom := errors.New("disk on fire")
	s := buildXZ(testBlock{data: strings.Repeat("x", 1000)})
	r := io.MultiReader(bytes.NewReader(s[:40]), iotestErrReader{boom})
	_, err := func() ([]byte, error) {
		d, err := NewXZReader(r, nil)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(d)
	}()
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrFormat)
}

type iotestErrReader struct{ err error }

func (e iotestErrReader) Read([]byte) (int, error) { return 0, e.err }

// TestRefusalAtTheHeader: a dictionary over the limit is refused from the
// block header, before the decoder sees it (so before it allocates the
// dictionary; BenchmarkRefusal measures that): the guard hands on the
// bytes before that header and none of it.
func TestRefusalAtTheHeader(t *testing.T) {
	small, big, medium := testBlock{data: "a"}, testBlock{data: "b", dict: 40}, testBlock{data: "a", dict: 24}
	for _, c := range []struct {
		name   string
		before []testBlock // the blocks before the refused one
		data   []byte
		opts   *Options
		words  string
	}{
		{"4 GiB dictionary", []testBlock{small}, buildXZ(small, big), nil, "dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit"},
		{"16 MiB over a 1 MiB limit", nil, buildXZ(medium), &Options{MaxDict: 1 << 20}, "exceeds the 1 MiB limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeGuarded(c.data, c.opts)
			require.ErrorIs(t, err, ErrLimit)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Contains(t, err.Error(), c.words)
			passed, err := io.ReadAll(NewGuard(bytes.NewReader(c.data), c.opts))
			require.ErrorIs(t, err, ErrLimit)
			require.Equal(t, c.data[:encodedLen(c.before...)], passed, "the guard stops where the refused block header starts")
		})
	}
}

// encodedLen is the length of a stream's header and blocks as buildXZ
// writes them.
func encodedLen(blocks ...testBlock) int {
	n := len(streamHeader(0x01))
	for _, b := range blocks {
		n += len(b.header()) + len(b.lzma2())
		n = (n+3)&^3 + 4 // padding, CRC32
	}
	return n
}

// TestNothingUncheckedLeaves: when block 3's header is refused, the guard
// has handed on exactly the bytes before it, not one byte of that header.
func TestNothingUncheckedLeaves(t *testing.T) {
	s := buildXZ(testBlock{data: "one"}, testBlock{data: "two"}, testBlock{data: "three", dict: 40})
	passed, err := io.ReadAll(NewGuard(bytes.NewReader(s), nil))
	require.ErrorIs(t, err, ErrLimit)
	require.Equal(t, s[:60], passed, "block 3's header starts at byte 60")
}

// TestShortReads: the guard copes with inputs that return a byte at a time
// and with callers that read a byte at a time.
func TestShortReads(t *testing.T) {
	data := sample(50 << 10)
	s := xzTool(t, data, "--block-size=8KiB", "--check=sha256")
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"one-byte input": iotest.OneByteReader,
		"half reads":     iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewXZReader(wrap(bytes.NewReader(s)), nil)
			require.NoError(t, err)
			out, err := io.ReadAll(iotest.OneByteReader(r))
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, out))
			passed, err := io.ReadAll(iotest.OneByteReader(NewGuard(wrap(bytes.NewReader(s)), nil)))
			require.NoError(t, err)
			require.Equal(t, s, passed)
		})
	}
}
