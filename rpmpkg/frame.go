// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Bounds on headers, as in rpm (hdrchk limits) but tighter on the index.
const (
	maxHeaderIndex = 1 << 16
	maxHeaderData  = 64 << 20
)

// rawHeaders are the byte ranges before the payload plus their decoding.
type rawHeaders struct {
	lead, sig, header []byte
	sigTags, tags     *header
}

// readHeaders reads the lead, signature header and header from r, leaving r
// at the payload. Every index entry is checked against its store while
// reading, so that nothing is allocated on the word of a count alone.
func readHeaders(r io.Reader) (*rawHeaders, error) {
	h := &rawHeaders{lead: make([]byte, leadSize)}
	if _, err := io.ReadFull(r, h.lead); err != nil {
		return nil, fmt.Errorf("%w: reading lead: %w", ErrNotRPM, noEOF(err))
	}
	if !bytes.Equal(h.lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, fmt.Errorf("%w: bad lead magic %x", ErrNotRPM, h.lead[:4])
	}
	if v := h.lead[4]; v < 3 || v > 4 {
		return nil, fmt.Errorf("%w: unsupported lead version %d", ErrUnsupported, v)
	}
	if st := binary.BigEndian.Uint16(h.lead[78:80]); st != 5 {
		return nil, fmt.Errorf("%w: signature type %d (want 5, header-style)", ErrUnsupported, st)
	}
	var err error
	if h.sig, h.sigTags, err = readHeaderStruct(r, "signature header"); err != nil {
		return nil, err
	}
	if pad := (8 - len(h.sig)%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return nil, fmt.Errorf("%w: signature padding: %w", ErrMalformed, noEOF(err))
		}
	}
	if h.header, h.tags, err = readHeaderStruct(r, "header"); err != nil {
		return nil, err
	}
	return h, nil
}

// readHeaderStruct reads one header structure (intro, index, store) and
// decodes it, validating every entry against the store.
func readHeaderStruct(r io.Reader, what string) ([]byte, *header, error) {
	intro := make([]byte, 16)
	if _, err := io.ReadFull(r, intro); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrMalformed, what, noEOF(err))
	}
	if string(intro[:4]) != headerMagic {
		return nil, nil, fmt.Errorf("%w: %s: bad magic %x", ErrMalformed, what, intro[:4])
	}
	count := binary.BigEndian.Uint32(intro[8:12])
	size := binary.BigEndian.Uint32(intro[12:16])
	if count == 0 || count > maxHeaderIndex || size > maxHeaderData {
		return nil, nil, fmt.Errorf("%w: %s: %d entries, %d data bytes: out of bounds", ErrMalformed, what, count, size)
	}
	// Grow with the data actually read, not with what the header claims.
	var buf bytes.Buffer
	buf.Write(intro)
	want := int64(16*count) + int64(size)
	if n, err := io.CopyN(&buf, r, want); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %d of %d bytes: %w", ErrMalformed, what, n, want, noEOF(err))
	}
	b := buf.Bytes()
	h, err := decodeHeader(b, what)
	if err != nil {
		return nil, nil, err
	}
	return b, h, nil
}

// noEOF turns a bare EOF inside a structure into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
