// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Hand-built .xz streams: blocks of uncompressed LZMA2 chunks, which every
// decoder accepts, so each test can break exactly one thing.

// testBlock describes one block; zero values give a valid block.
type testBlock struct {
	data    string
	dict    byte   // LZMA2 dictionary size byte (0 = 4 KiB)
	filters []byte // raw filter flags; nil means LZMA2 with dict
	chunks  []byte // raw LZMA2 data; nil means one uncompressed chunk of data and the end marker
	sizes   bool   // put the compressed and uncompressed sizes in the header
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func streamHeader(check byte) []byte {
	flags := []byte{0, check}
	return append(append(bytes.Clone(streamMagic), flags...), le32(crc32.ChecksumIEEE(flags))...)
}

// varintBytes encodes xz's multibyte integer.
func varintBytes(v uint64) []byte {
	var out []byte
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

func (b testBlock) lzma2() []byte {
	if b.chunks != nil {
		return b.chunks
	}
	var out []byte
	if b.data != "" {
		out = append(out, 0x01, byte((len(b.data)-1)>>8), byte(len(b.data)-1))
		out = append(out, b.data...)
	}
	return append(out, 0x00)
}

func (b testBlock) header() []byte {
	filters := b.filters
	if filters == nil {
		filters = []byte{0x21, 0x01, b.dict}
	}
	count := byte(0)
	for i := 0; i < len(filters); {
		// count filters: id, size, props (ids and sizes are single bytes here)
		i += 2 + int(filters[i+1])
		count++
	}
	flags := count - 1
	body := []byte{0, flags}
	if b.sizes {
		body[1] |= 0xc0
		body = append(body, varintBytes(uint64(len(b.lzma2())))...)
		body = append(body, varintBytes(uint64(len(b.data)))...)
	}
	body = append(body, filters...)
	for (len(body)+4)%4 != 0 {
		body = append(body, 0)
	}
	body[0] = byte((len(body)+4)/4 - 1)
	return append(body, le32(crc32.ChecksumIEEE(body))...)
}

// buildXZ returns one stream with a CRC32 check holding the blocks.
func buildXZ(blocks ...testBlock) []byte {
	out := streamHeader(0x01)
	var index []byte
	for _, b := range blocks {
		h, data := b.header(), b.lzma2()
		out = append(append(out, h...), data...)
		unpadded := len(h) + len(data)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		out = append(out, le32(crc32.ChecksumIEEE([]byte(b.data)))...)
		index = append(index, varintBytes(uint64(unpadded+4))...)
		index = append(index, varintBytes(uint64(len(b.data)))...)
	}
	index = append(append([]byte{0}, varintBytes(uint64(len(blocks)))...), index...)
	for len(index)%4 != 0 {
		index = append(index, 0)
	}
	index = append(index, le32(crc32.ChecksumIEEE(index))...)
	out = append(out, index...)
	footer := append(le32(uint32(len(index)/4-1)), 0, 0x01)
	footer = append(le32(crc32.ChecksumIEEE(footer)), footer...)
	return append(append(out, footer...), 'Y', 'Z')
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
