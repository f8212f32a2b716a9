// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// The .xz container as the guard walks it (xz-file-format 1.x):
//
//	stream = header(12) block* index footer(12), then 00000000* and maybe another stream
//	block  = header(8..1024) LZMA2 chunks, 0-3 zero bytes to a multiple of 4, check
//	index  = 00, record count, records (unpadded size, uncompressed size), padding, CRC32
//
// Each step reads one structure from src into out; Read hands out on only
// once the step has checked it. Chunk data is not inspected: it passes
// straight through while pass counts it down.

type state int

const (
	atStreamHeader state = iota // the first stream's header
	atBlockOrIndex
	atChunk
	atIndexRecord
	afterStream // stream padding, another stream, or the end
)

const (
	filterDelta = 0x03
	filterLZMA2 = 0x21
)

var streamMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

type guard struct {
	src       *bufio.Reader
	maxDict   int64
	lzma2Only bool // refuse BCJ and delta filters (ulikunitz/xz decodes LZMA2 alone)

	out   []byte // checked bytes not yet handed on
	pos   int    // how much of out is handed on
	pass  int64  // chunk data to hand on unchecked
	err   error  // sticky: an *Error, an I/O error of src, or io.EOF at a clean end
	ioErr error  // src's own error, which is nobody's format problem

	state state
	off   int64 // bytes consumed from src
	at    int64 // offset of the structure being checked, for errors

	stream    int // 1-based
	flags     [2]byte
	checkSize int64
	blocks    uint64 // blocks in this stream so far
	unpadded  uint64 // sums over the stream's blocks, to check the index
	unpacked  uint64

	block int // 1-based number of the block being walked; 0 outside blocks
	cur   blockState

	records   uint64 // index records left to read
	indexCRC  uint32
	indexSize int64
	recSums   [2]uint64 // unpadded and uncompressed sums of the records read
}

// blockState is what the guard knows about the block it is walking.
type blockState struct {
	headerSize       int64
	packed, unpacked int64 // LZMA2 bytes and decoded bytes so far
	wantPacked       int64 // from the header; -1 when absent
	wantUnpacked     int64
	needDictReset    bool
	needProps        bool
}

func newGuard(r io.Reader, maxDict int64, lzma2Only bool) *guard {
	return &guard{src: bufio.NewReaderSize(r, 64<<10), maxDict: maxDict, lzma2Only: lzma2Only}
}

func (g *guard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if g.pos < len(g.out) {
			n := copy(p, g.out[g.pos:])
			g.pos += n
			return n, nil
		}
		if g.pass > 0 {
			return g.passThrough(p)
		}
		if g.err != nil {
			return 0, g.err
		}
		g.out, g.pos, g.at = g.out[:0], 0, g.off
		if err := g.step(); err != nil {
			g.out, g.err = g.out[:0], err // nothing unchecked leaves
		}
	}
}

func (g *guard) passThrough(p []byte) (int, error) {
	if int64(len(p)) > g.pass {
		p = p[:g.pass]
	}
	n, err := g.src.Read(p)
	g.pass -= int64(n)
	g.off += int64(n)
	if n > 0 || err == nil {
		return n, nil
	}
	g.at, g.pass = g.off, 0
	g.err = g.readErr(err, "LZMA2 chunk data")
	return 0, g.err
}

func (g *guard) step() error {
	switch g.state {
	case atStreamHeader:
		g.stream = 1
		if _, err := g.read(12, "stream header"); err != nil {
			return err
		}
		return g.startStream()
	case atBlockOrIndex:
		return g.blockOrIndex()
	case atChunk:
		return g.chunk()
	case atIndexRecord:
		return g.indexRecord()
	default:
		return g.afterStream()
	}
}

// explain turns an error the decoder returned into the root cause.
func (g *guard) explain(err error) error {
	var ge *Error
	switch {
	case errors.As(g.err, &ge):
		return g.err
	case g.ioErr != nil:
		return err
	}
	return fmt.Errorf("%w: %w", ErrFormat, err)
}

func (g *guard) fail(kind error, format string, args ...any) error {
	return &Error{Format: "xz", Stream: g.stream, Block: g.block, Offset: g.at, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// read appends the next n bytes of src to out and returns them (valid until
// the next read).
func (g *guard) read(n int, what string) ([]byte, error) {
	start := len(g.out)
	g.out = slices.Grow(g.out, n)[:start+n]
	k, err := io.ReadFull(g.src, g.out[start:])
	g.off += int64(k)
	if err != nil {
		g.out = g.out[:start+k]
		return nil, g.readErr(err, what)
	}
	return g.out[start:], nil
}

func (g *guard) readErr(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return g.fail(ErrFormat, "input ends inside the %s", what)
	}
	g.ioErr = err
	return err
}

// varint reads one of xz's multibyte integers from src.
func (g *guard) varint(what string) (uint64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		b, err := g.read(1, what)
		if err != nil {
			return 0, err
		}
		v |= uint64(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			if i > 0 && b[0] == 0 {
				return 0, g.fail(ErrFormat, "badly encoded integer in the %s", what)
			}
			return v, nil
		}
	}
	return 0, g.fail(ErrFormat, "badly encoded integer in the %s", what)
}

// uvarint decodes a multibyte integer at the start of b; n is its length.
func uvarint(b []byte) (v uint64, n int, ok bool) {
	for i := 0; i < 9 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, i == 0 || b[i] != 0
		}
	}
	return 0, 0, false
}

// startStream checks the stream header at the start of out.
func (g *guard) startStream() error {
	h := g.out[:12]
	if !bytes.Equal(h[:6], streamMagic) {
		return g.fail(ErrFormat, "not an xz stream (bad magic bytes)")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:12]) {
		return g.fail(ErrFormat, "stream header checksum mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return g.fail(ErrUnsupported, "unknown stream flags %#04x", binary.BigEndian.Uint16(h[6:8]))
	}
	switch h[7] {
	case 0x00:
		g.checkSize = 0
	case 0x01: // CRC32
		g.checkSize = 4
	case 0x04: // CRC64
		g.checkSize = 8
	case 0x0a: // SHA-256
		g.checkSize = 32
	default:
		return g.fail(ErrUnsupported, "check type %#x (the decoder knows none, CRC32, CRC64 and SHA-256)", h[7])
	}
	g.flags = [2]byte{h[6], h[7]}
	g.blocks, g.unpadded, g.unpacked, g.block = 0, 0, 0, 0
	g.state = atBlockOrIndex
	return nil
}

func (g *guard) blockOrIndex() error {
	b, err := g.read(1, "block header")
	if err != nil {
		return err
	}
	if b[0] == 0 {
		return g.startIndex()
	}
	g.block = int(min(g.blocks+1, 1<<31))
	size := (int(b[0]) + 1) * 4
	if _, err := g.read(size-1, "block header"); err != nil {
		return err
	}
	return g.checkBlockHeader(g.out[:size])
}

// checkBlockHeader checks a whole block header: checksum, flags, sizes and
// the filter chain, whose LZMA2 dictionary must be within the cap.
func (g *guard) checkBlockHeader(h []byte) error {
	body := h[:len(h)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(h[len(h)-4:]) {
		return g.fail(ErrFormat, "block header checksum mismatch")
	}
	flags := body[1]
	if flags&0x3c != 0 {
		return g.fail(ErrUnsupported, "reserved block flags %#02x", flags)
	}
	g.cur = blockState{headerSize: int64(len(h)), wantPacked: -1, wantUnpacked: -1, needDictReset: true, needProps: true}
	pos := 2
	for _, f := range []struct {
		present bool
		want    *int64
		name    string
	}{{flags&0x40 != 0, &g.cur.wantPacked, "compressed size"}, {flags&0x80 != 0, &g.cur.wantUnpacked, "uncompressed size"}} {
		if !f.present {
			continue
		}
		v, n, ok := uvarint(body[pos:])
		if !ok || v >= 1<<62 || (f.want == &g.cur.wantPacked && v == 0) {
			return g.fail(ErrFormat, "bad %s in the block header", f.name)
		}
		*f.want, pos = int64(v), pos+n
	}
	count := int(flags&3) + 1
	var chain []string
	for i := 1; i <= count; i++ {
		id, n1, ok1 := uvarint(body[pos:])
		size, n2, ok2 := uvarint(body[pos+n1:])
		pos += n1 + n2
		if !ok1 || !ok2 || size > uint64(len(body)-pos) {
			return g.fail(ErrFormat, "filter %d runs past the block header", i)
		}
		if err := g.checkFilter(id, body[pos:pos+int(size)], i == count); err != nil {
			return err
		}
		pos += int(size)
		chain = append(chain, filterName(id))
	}
	if slices.ContainsFunc(body[pos:], func(c byte) bool { return c != 0 }) {
		return g.fail(ErrFormat, "non-zero block header padding")
	}
	if g.lzma2Only && count > 1 {
		return g.fail(ErrUnsupported, "filter chain %v: the decoder handles LZMA2 alone", chain)
	}
	g.state = atChunk
	return nil
}

func (g *guard) checkFilter(id uint64, props []byte, last bool) error {
	name := filterName(id)
	switch {
	case name == "":
		return g.fail(ErrUnsupported, "unknown filter %#x (known: delta, the BCJ filters, LZMA2)", id)
	case id == filterLZMA2 && !last:
		return g.fail(ErrFormat, "LZMA2 is not the last filter")
	case id != filterLZMA2 && last:
		return g.fail(ErrFormat, "the last filter is %s, not LZMA2", name)
	case id == filterLZMA2:
		if len(props) != 1 || props[0] > 40 {
			return g.fail(ErrFormat, "bad LZMA2 properties %x", props)
		}
		if dict := dictSize(props[0]); dict > g.maxDict {
			return g.fail(ErrLimit, "dictionary of %s exceeds the %s limit", sizeString(dict), sizeString(g.maxDict))
		}
	case id == filterDelta && len(props) != 1,
		id != filterDelta && len(props) != 0 && len(props) != 4:
		return g.fail(ErrFormat, "bad %s properties %x", name, props)
	}
	return nil
}

func filterName(id uint64) string {
	switch id {
	case filterDelta:
		return "delta"
	case 0x04:
		return "x86 BCJ"
	case 0x05:
		return "PowerPC BCJ"
	case 0x06:
		return "IA-64 BCJ"
	case 0x07:
		return "ARM BCJ"
	case 0x08:
		return "ARM-Thumb BCJ"
	case 0x09:
		return "SPARC BCJ"
	case 0x0a:
		return "ARM64 BCJ"
	case 0x0b:
		return "RISC-V BCJ"
	case filterLZMA2:
		return "LZMA2"
	}
	return ""
}

// dictSize decodes LZMA2's dictionary size byte (0..40): 2 or 3 times a
// power of two from 4 KiB, and 40 for 4 GiB - 1.
func dictSize(p byte) int64 {
	if p == 40 {
		return 1<<32 - 1
	}
	return int64(2|p&1) << (p/2 + 11)
}

func sizeString(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%d bytes (about %d MiB)", n, (n+1<<19)>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// chunk checks one LZMA2 chunk header and lets its data pass, or ends the
// block at the end marker.
func (g *guard) chunk() error {
	c, err := g.read(1, "LZMA2 chunk header")
	if err != nil {
		return err
	}
	ctl, b := c[0], &g.cur
	var packed, unpacked int64
	switch {
	case ctl == 0x00:
		return g.endBlock()
	case ctl == 0x01 || ctl == 0x02: // uncompressed chunk, with or without dictionary reset
		if ctl == 0x02 && b.needDictReset {
			return g.fail(ErrFormat, "the first LZMA2 chunk does not reset the dictionary")
		}
		h, err := g.read(2, "LZMA2 chunk header")
		if err != nil {
			return err
		}
		packed = int64(binary.BigEndian.Uint16(h)) + 1
		unpacked = packed
	case ctl >= 0x80: // LZMA chunk; bits 5-6 say what it resets
		if ctl < 0xe0 && b.needDictReset {
			return g.fail(ErrFormat, "the first LZMA2 chunk does not reset the dictionary")
		}
		n := 4
		if ctl >= 0xc0 {
			n = 5
		}
		h, err := g.read(n, "LZMA2 chunk header")
		if err != nil {
			return err
		}
		unpacked = int64(ctl&0x1f)<<16 + int64(binary.BigEndian.Uint16(h[0:2])) + 1
		packed = int64(binary.BigEndian.Uint16(h[2:4])) + 1
		switch {
		case ctl >= 0xc0 && !validLZMA2Props(h[4]):
			return g.fail(ErrFormat, "bad LZMA properties byte %#02x in an LZMA2 chunk", h[4])
		case ctl >= 0xc0:
			b.needProps = false
		case b.needProps:
			return g.fail(ErrFormat, "the first LZMA chunk of the block sets no properties")
		}
	default:
		return g.fail(ErrFormat, "bad LZMA2 chunk control byte %#02x", ctl)
	}
	b.needDictReset = false
	b.packed += int64(len(g.out)) + packed
	b.unpacked += unpacked
	// +1: the end marker is still to come.
	if b.wantPacked >= 0 && b.packed+1 > b.wantPacked {
		return g.fail(ErrFormat, "block data runs past the compressed size of %d its header gives", b.wantPacked)
	}
	if b.wantUnpacked >= 0 && b.unpacked > b.wantUnpacked {
		return g.fail(ErrFormat, "block decodes past the uncompressed size of %d its header gives", b.wantUnpacked)
	}
	g.pass = packed
	return nil
}

// validLZMA2Props: lc, lp and pb within range and lc+lp <= 4.
func validLZMA2Props(p byte) bool {
	if p >= 9*5*5 {
		return false
	}
	lc, lp := p%9, p/9%5
	return lc+lp <= 4
}

// endBlock checks the block's sizes against its header, then reads its
// padding and check.
func (g *guard) endBlock() error {
	b := &g.cur
	b.packed++ // the end marker
	if b.wantPacked >= 0 && b.packed != b.wantPacked {
		return g.fail(ErrFormat, "block data is %d bytes, its header says %d", b.packed, b.wantPacked)
	}
	if b.wantUnpacked >= 0 && b.unpacked != b.wantUnpacked {
		return g.fail(ErrFormat, "block decodes to %d bytes, its header says %d", b.unpacked, b.wantUnpacked)
	}
	unpadded := b.headerSize + b.packed
	pad := int(-unpadded & 3)
	tail, err := g.read(pad+int(g.checkSize), "block padding and check")
	if err != nil {
		return err
	}
	if slices.ContainsFunc(tail[:pad], func(c byte) bool { return c != 0 }) {
		return g.fail(ErrFormat, "non-zero block padding")
	}
	g.blocks++
	g.unpadded += uint64(unpadded + g.checkSize)
	g.unpacked += uint64(b.unpacked)
	g.block = 0
	g.state = atBlockOrIndex
	return nil
}

// startIndex reads the record count after the index indicator at out[0].
func (g *guard) startIndex() error {
	g.block = 0
	count, err := g.varint("index")
	if err != nil {
		return err
	}
	if count != g.blocks {
		return g.fail(ErrFormat, "the index lists %d blocks, the stream has %d", count, g.blocks)
	}
	g.records, g.recSums = count, [2]uint64{}
	g.indexCRC = crc32.ChecksumIEEE(g.out)
	g.indexSize = int64(len(g.out))
	if count == 0 {
		return g.endIndex()
	}
	g.state = atIndexRecord
	return nil
}

func (g *guard) indexRecord() error {
	for i := range g.recSums {
		v, err := g.varint("index")
		if err != nil {
			return err
		}
		g.recSums[i] += v
	}
	g.indexCRC = crc32.Update(g.indexCRC, crc32.IEEETable, g.out)
	g.indexSize += int64(len(g.out))
	if g.records--; g.records == 0 {
		return g.endIndex()
	}
	return nil
}

// endIndex reads the index padding and CRC32 and the stream footer.
func (g *guard) endIndex() error {
	if g.recSums != [2]uint64{g.unpadded, g.unpacked} {
		return g.fail(ErrFormat, "the index records do not match the blocks")
	}
	pad := int(-g.indexSize & 3)
	p, err := g.read(pad, "index padding")
	if err != nil {
		return err
	}
	if slices.ContainsFunc(p, func(c byte) bool { return c != 0 }) {
		return g.fail(ErrFormat, "non-zero index padding")
	}
	g.indexCRC = crc32.Update(g.indexCRC, crc32.IEEETable, p)
	g.indexSize += int64(pad) + 4
	c, err := g.read(4, "index checksum")
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(c) != g.indexCRC {
		return g.fail(ErrFormat, "index checksum mismatch")
	}
	f, err := g.read(12, "stream footer")
	if err != nil {
		return err
	}
	switch {
	case string(f[10:12]) != "YZ":
		return g.fail(ErrFormat, "bad stream footer magic bytes")
	case crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[0:4]):
		return g.fail(ErrFormat, "stream footer checksum mismatch")
	case (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != g.indexSize:
		return g.fail(ErrFormat, "the stream footer gives a different index size than the index has")
	case [2]byte(f[8:10]) != g.flags:
		return g.fail(ErrFormat, "stream footer flags differ from the header's")
	}
	g.state = afterStream
	return nil
}

// afterStream reads four bytes of stream padding, or the next stream's
// header, or finds the clean end of the input.
func (g *guard) afterStream() error {
	var four [4]byte
	k, err := io.ReadFull(g.src, four[:])
	g.off += int64(k)
	g.out = append(g.out, four[:k]...)
	switch {
	case err == io.EOF:
		return io.EOF
	case err == io.ErrUnexpectedEOF:
		return g.fail(ErrFormat, "%d stray bytes after the stream", k)
	case err != nil:
		return g.readErr(err, "stream padding")
	case four == [4]byte{}:
		return nil
	}
	g.stream++
	if _, err := g.read(8, "stream header"); err != nil {
		return err
	}
	return g.startStream()
}
