// SPDX-License-Identifier: Apache-2.0

// Package xzguardtest makes xz streams for tests of the code that decodes
// them: plain ones, and hostile ones whose first block asks for a
// dictionary no decoder should allocate.
package xzguardtest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/ulikunitz/xz"
)

// HugeDict is the LZMA2 dictionary-size byte for 4 GiB - 1, the largest
// there is: a few hundred bytes that would make a decoder without a limit
// allocate 4 GiB before it decodes anything.
const HugeDict = 40

// Compress returns data as an xz stream written by ulikunitz/xz.
func Compress(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		tb.Fatalf("xzguardtest: compress: %v", err)
	}
	return buf.Bytes()
}

// SetFirstDict rewrites, in place, the LZMA2 dictionary-size byte of the
// first block of the xz stream that starts stream, and fixes the block
// header's CRC32, as a hostile file would.
func SetFirstDict(tb testing.TB, stream []byte, code byte) {
	tb.Helper()
	const streamHeader = 12 // the first block header follows it
	if len(stream) <= streamHeader || string(stream[:6]) != "\xfd7zXZ\x00" {
		tb.Fatalf("xzguardtest: not an xz stream")
	}
	h := stream[streamHeader:]
	size := (int(h[0]) + 1) * 4
	if size < 8 || size > len(h) {
		tb.Fatalf("xzguardtest: block header of %d bytes does not fit", size)
	}
	i := bytes.Index(h[2:size-4], []byte{0x21, 0x01}) // LZMA2, one property byte
	if i < 0 {
		tb.Fatalf("xzguardtest: no LZMA2 filter in the first block header")
	}
	h[2+i+2] = code
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
}

// Hostile returns data compressed, with the first block asking for a
// 4 GiB dictionary.
func Hostile(tb testing.TB, data []byte) []byte {
	tb.Helper()
	out := Compress(tb, data)
	SetFirstDict(tb, out, HugeDict)
	return out
}
