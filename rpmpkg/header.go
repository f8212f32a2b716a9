// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// header is a decoded header structure (signature header or main header).
// Only the entries' types decide the Go shape of their values: strings for
// STRING, STRING_ARRAY and I18NSTRING, int64s for the integer types, bytes
// for CHAR, INT8 and BIN.
type header struct {
	tags map[int]*headerTag
}

// headerTag is one decoded index entry.
type headerTag struct {
	typ   int
	strs  []string
	ints  []int64
	bytes []byte
}

// decodeHeader decodes a header structure whose bytes b (intro, index,
// store) were read by readHeaderStruct. It checks everything again, so it
// is safe on any input: each entry's data must lie inside the store, counts
// must fit in it, strings must be terminated, and no tag may appear twice.
func decodeHeader(b []byte, what string) (*header, error) {
	if len(b) < 16 || string(b[:4]) != headerMagic {
		return nil, fmt.Errorf("%w: %s: bad magic", ErrMalformed, what)
	}
	count := uint64(binary.BigEndian.Uint32(b[8:12]))
	size := uint64(binary.BigEndian.Uint32(b[12:16]))
	if count == 0 || count > maxHeaderIndex || size > maxHeaderData || uint64(len(b)) != 16+16*count+size {
		return nil, fmt.Errorf("%w: %s: %d entries and %d data bytes do not match its %d bytes",
			ErrMalformed, what, count, size, len(b))
	}
	store := b[16+16*count:]
	h := &header{tags: make(map[int]*headerTag, count)}
	for i := range int(count) {
		ix := b[16+16*i : 32+16*i]
		tag := int(binary.BigEndian.Uint32(ix[0:4]))
		typ := int(binary.BigEndian.Uint32(ix[4:8]))
		off := uint64(binary.BigEndian.Uint32(ix[8:12]))
		n := uint64(binary.BigEndian.Uint32(ix[12:16]))
		if n == 0 || n > size || off > size || (typ == typeString && n != 1) {
			return nil, fmt.Errorf("%w: %s: tag %d: bad entry (type %d, offset %d, count %d)",
				ErrMalformed, what, tag, typ, off, n)
		}
		if _, dup := h.tags[tag]; dup {
			return nil, fmt.Errorf("%w: %s: tag %d appears twice", ErrMalformed, what, tag)
		}
		length, err := dataLen(store, int(off), typ, int(n))
		if err != nil {
			return nil, fmt.Errorf("%s: tag %d: %w", what, tag, err)
		}
		h.tags[tag] = decodeTag(store[off:off+uint64(length)], typ, int(n))
	}
	return h, nil
}

// decodeTag decodes data, which dataLen has sized for n values of typ.
func decodeTag(data []byte, typ, n int) *headerTag {
	t := &headerTag{typ: typ}
	switch typ {
	case typeChar, typeInt8, typeBin:
		t.bytes = bytes.Clone(data)
	case typeInt16, typeInt32, typeInt64:
		width := map[int]int{typeInt16: 2, typeInt32: 4, typeInt64: 8}[typ]
		t.ints = make([]int64, n)
		for i := range n {
			v := data[i*width : (i+1)*width]
			switch typ {
			case typeInt16:
				t.ints[i] = int64(binary.BigEndian.Uint16(v))
			case typeInt32:
				t.ints[i] = int64(binary.BigEndian.Uint32(v))
			default:
				t.ints[i] = int64(binary.BigEndian.Uint64(v))
			}
		}
	case typeString, typeStringArray, typeI18NString:
		// dataLen found n terminators in data, the last at its end.
		t.strs = make([]string, 0, n)
		for s := range bytes.SplitSeq(data[:len(data)-1], []byte{0}) {
			t.strs = append(t.strs, string(s))
		}
	}
	return t
}

func (h *header) has(tag int) bool {
	_, ok := h.tags[tag]
	return ok
}

// str is the first string of tag, "" when absent or not a string type.
func (h *header) str(tag int) string {
	if t := h.tags[tag]; t != nil && len(t.strs) > 0 {
		return t.strs[0]
	}
	return ""
}

// strs is tag's strings, nil when absent or not a string type.
func (h *header) strs(tag int) []string {
	if t := h.tags[tag]; t != nil {
		return t.strs
	}
	return nil
}

// ints is tag's integers, nil when absent or not an integer type.
func (h *header) ints(tag int) []int64 {
	if t := h.tags[tag]; t != nil {
		return t.ints
	}
	return nil
}

// int is tag's first integer; ok is false when there is none.
func (h *header) int(tag int) (v int64, ok bool) {
	if t := h.tags[tag]; t != nil && len(t.ints) > 0 {
		return t.ints[0], true
	}
	return 0, false
}
