package kmod

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// maxXZDict bounds the LZMA2 dictionary an xz module may ask for. The
// decoder allocates the dictionary before it reads a byte of data, and
// ulikunitz/xz has no cap, so a 300-byte file could otherwise make us
// allocate 4 GiB. Kernel modules are compressed with a 1 MiB dictionary.
const maxXZDict = 64 << 20

// checkXZDicts walks every block of every stream in an xz file through the
// streams' indexes (from the end, as xz itself does) and refuses a
// dictionary larger than maxXZDict, or a layout it cannot follow.
func checkXZDicts(data []byte) error {
	end := len(data)
	for end > 0 {
		// Stream padding: zero bytes in multiples of four between streams.
		for end >= 4 && binary.LittleEndian.Uint32(data[end-4:end]) == 0 {
			end -= 4
		}
		start, err := checkXZStream(data[:end])
		if err != nil {
			return fmt.Errorf("xz: %w", err)
		}
		end = start
	}
	return nil
}

var errXZLayout = errors.New("malformed stream layout")

// checkXZStream checks the stream that ends at the end of data and returns
// where it starts.
func checkXZStream(data []byte) (int, error) {
	const headerSize, footerSize = 12, 12
	if len(data) < headerSize+footerSize {
		return 0, errXZLayout
	}
	footer := data[len(data)-footerSize:]
	if string(footer[10:12]) != "YZ" || crc32.ChecksumIEEE(footer[4:10]) != binary.LittleEndian.Uint32(footer[0:4]) {
		return 0, fmt.Errorf("%w: bad stream footer", errXZLayout)
	}
	indexSize := (int(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
	indexStart := len(data) - footerSize - indexSize
	if indexSize <= 0 || indexStart < headerSize {
		return 0, fmt.Errorf("%w: bad index size", errXZLayout)
	}
	index := data[indexStart : len(data)-footerSize]
	if index[0] != 0 {
		return 0, fmt.Errorf("%w: bad index indicator", errXZLayout)
	}
	pos := 1
	count, ok := xzVarint(index, &pos)
	if !ok || count > uint64(len(index)) {
		return 0, fmt.Errorf("%w: bad index", errXZLayout)
	}
	// Blocks sit back to back before the index, each padded to four bytes.
	type block struct{ unpadded uint64 }
	blocks := make([]block, 0, count)
	total := 0
	for i := uint64(0); i < count; i++ {
		unpadded, ok1 := xzVarint(index, &pos)
		_, ok2 := xzVarint(index, &pos)
		if !ok1 || !ok2 || unpadded < 5 || unpadded > uint64(len(data)) {
			return 0, fmt.Errorf("%w: bad index record", errXZLayout)
		}
		blocks = append(blocks, block{unpadded})
		total += int((unpadded + 3) &^ 3)
	}
	streamStart := indexStart - total - headerSize
	if streamStart < 0 || string(data[streamStart:streamStart+6]) != string(magicXZ) {
		return 0, fmt.Errorf("%w: blocks do not match the index", errXZLayout)
	}
	off := streamStart + headerSize
	for _, b := range blocks {
		if err := checkXZBlockHeader(data[off:indexStart]); err != nil {
			return 0, err
		}
		off += int((b.unpadded + 3) &^ 3)
	}
	return streamStart, nil
}

// checkXZBlockHeader reads a block header's filter list and refuses an
// LZMA2 dictionary above maxXZDict.
func checkXZBlockHeader(b []byte) error {
	if len(b) < 1 || b[0] == 0 {
		return fmt.Errorf("%w: bad block header", errXZLayout)
	}
	size := (int(b[0]) + 1) * 4
	if size > len(b) {
		return fmt.Errorf("%w: block header past the data", errXZLayout)
	}
	h := b[:size]
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return fmt.Errorf("%w: block header checksum", errXZLayout)
	}
	flags := h[1]
	pos := 2
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, ok := xzVarint(h[:size-4], &pos); !ok {
				return fmt.Errorf("%w: bad block sizes", errXZLayout)
			}
		}
	}
	for i := 0; i <= int(flags&0x03); i++ {
		id, ok1 := xzVarint(h[:size-4], &pos)
		n, ok2 := xzVarint(h[:size-4], &pos)
		if !ok1 || !ok2 || n > uint64(size-4-pos) {
			return fmt.Errorf("%w: bad filter flags", errXZLayout)
		}
		if id == 0x21 { // LZMA2: one property byte, the dictionary size
			if n != 1 {
				return fmt.Errorf("%w: bad LZMA2 properties", errXZLayout)
			}
			if dict := xzDictSize(h[pos]); dict > maxXZDict {
				return fmt.Errorf("dictionary of %d MiB is above the %d MiB limit for modules", dict>>20, maxXZDict>>20)
			}
		}
		pos += int(n)
	}
	return nil
}

// xzDictSize decodes LZMA2's dictionary size byte (values above 40 are
// invalid and count as unbounded).
func xzDictSize(p byte) uint64 {
	if p > 40 {
		return 1 << 63
	}
	if p == 40 {
		return 1<<32 - 1
	}
	return uint64(2|p&1) << (p/2 + 11)
}

// xzVarint reads xz's multibyte integer (7 bits a byte, at most 9 bytes).
func xzVarint(b []byte, pos *int) (uint64, bool) {
	var v uint64
	for i := 0; i < 9; i++ {
		if *pos >= len(b) {
			return 0, false
		}
		c := b[*pos]
		*pos++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i == 0 || c != 0
		}
	}
	return 0, false
}
