// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/internal/xzguard/xzguardtest"
)

// withDict is xzData with its first block's dictionary byte set to code.
func withDict(tb testing.TB, xzData []byte, code byte) []byte {
	tb.Helper()
	out := bytes.Clone(xzData)
	xzguardtest.SetFirstDict(tb, out, code)
	return out
}

func TestXZDictionaryLimit(t *testing.T) {
	image := bytes.Repeat([]byte("\x7fELF module text "), 1000)
	good := xzguardtest.Compress(t, image)
	out, c, err := Decompress(good)
	require.NoError(t, err)
	assert.Equal(t, CompressXZ, c)
	assert.Equal(t, image, out)

	// 4 GiB - 1 (code 40) and 128 MiB (code 30): refused before any allocation.
	for _, code := range []byte{40, 30} {
		_, _, err := Decompress(withDict(t, good, code))
		require.ErrorContains(t, err, "exceeds the 64 MiB limit")
	}
	// 64 MiB (code 28) is the limit and still decodes.
	out, _, err = Decompress(withDict(t, good, 28))
	require.NoError(t, err)
	assert.Equal(t, image, out)
}

func TestXZLayoutErrors(t *testing.T) {
	// An ELF start, so that each input fails on its layout, not on the
	// magic check after the first decompressed bytes.
	good := xzguardtest.Compress(t, bytes.Repeat([]byte("\x7fELF module text "), 100))
	for name, c := range map[string]struct {
		data []byte
		says string
	}{
		"truncated":       {good[:len(good)-3], "input ends inside the stream footer"},
		"bad footer":      {append(bytes.Clone(good[:len(good)-2]), 'X', 'X'), "bad stream footer magic bytes"},
		"header checksum": {func() []byte { b := bytes.Clone(good); b[13] ^= 0xff; return b }(), "block 1 at byte 12: block header checksum mismatch"},
		"only magic":      {[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "input ends inside the stream header"},
	} {
		_, _, err := Decompress(c.data)
		assert.ErrorContains(t, err, c.says, name)
	}
}

// TestXZFromTheXZTool: files made by xz(1) the way kbuild compresses
// modules, including two concatenated streams with padding, pass the check.
func TestXZFromTheXZTool(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		needtest.Missing(t, "needs xz(1) (xz-utils)")
	}
	part := func(s string) []byte {
		cmd := exec.Command("xz", "--check=crc32", "--lzma2=dict=1MiB", "-c")
		cmd.Stdin = bytes.NewReader([]byte(s))
		out, err := cmd.Output()
		require.NoError(t, err)
		return out
	}
	data := append(part("\x7fELF first stream "), 0, 0, 0, 0)
	data = append(data, part("second stream")...)
	out, _, err := Decompress(data)
	require.NoError(t, err)
	assert.Equal(t, "\x7fELF first stream second stream", string(out))
}

func FuzzDecompressXZ(f *testing.F) {
	f.Add(xzguardtest.Compress(f, []byte("module")))
	f.Add(withDict(f, xzguardtest.Compress(f, []byte("x")), 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = Decompress(data) // never panics, never allocates a huge dictionary
	})
}
