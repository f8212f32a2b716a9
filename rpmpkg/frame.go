package rpmpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cavaliergopher/rpm"
)

// Bounds on headers, as in rpm (hdrchk limits) but tighter on the index.
const (
	maxHeaderIndex = 1 << 16
	maxHeaderData  = 64 << 20
)

// rawHeaders are the byte ranges before the payload plus their decoding.
type rawHeaders struct {
	lead, sig, header []byte
	pkg               *rpm.Package
}

// readHeaders reads the lead, signature header and header from r, leaving r
// at the payload. Every index entry is checked against its store before
// cavaliergopher/rpm decodes it, because that decoder trusts counts
// (allocations of count elements) and can panic on inconsistent headers.
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
	if h.sig, err = readHeaderStruct(r, "signature header"); err != nil {
		return nil, err
	}
	if pad := (8 - len(h.sig)%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return nil, fmt.Errorf("%w: signature padding: %w", ErrMalformed, noEOF(err))
		}
	}
	if h.header, err = readHeaderStruct(r, "header"); err != nil {
		return nil, err
	}
	all := make([]byte, 0, len(h.lead)+len(h.sig)+8+len(h.header))
	all = append(append(all, h.lead...), h.sig...)
	all = append(append(all, make([]byte, (8-len(h.sig)%8)%8)...), h.header...)
	h.pkg, err = decodeHeaders(all)
	if err != nil {
		return nil, err
	}
	return h, nil
}

func decodeHeaders(b []byte) (p *rpm.Package, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("%w: header decoding failed: %v", ErrMalformed, v)
		}
	}()
	p, err = rpm.Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return p, nil
}

// readHeaderStruct reads one header structure (intro, index, store) and
// validates every entry against the store.
func readHeaderStruct(r io.Reader, what string) ([]byte, error) {
	intro := make([]byte, 16)
	if _, err := io.ReadFull(r, intro); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, what, noEOF(err))
	}
	if string(intro[:4]) != headerMagic {
		return nil, fmt.Errorf("%w: %s: bad magic %x", ErrMalformed, what, intro[:4])
	}
	count := binary.BigEndian.Uint32(intro[8:12])
	size := binary.BigEndian.Uint32(intro[12:16])
	if count == 0 || count > maxHeaderIndex || size > maxHeaderData {
		return nil, fmt.Errorf("%w: %s: %d entries, %d data bytes: out of bounds", ErrMalformed, what, count, size)
	}
	// Grow with the data actually read, not with what the header claims.
	var buf bytes.Buffer
	buf.Write(intro)
	want := int64(16*count) + int64(size)
	if n, err := io.CopyN(&buf, r, want); err != nil {
		return nil, fmt.Errorf("%w: %s: %d of %d bytes: %w", ErrMalformed, what, n, want, noEOF(err))
	}
	b := buf.Bytes()
	store := b[16+16*count:]
	for i := range int(count) {
		ix := b[16+16*i : 32+16*i]
		tag := binary.BigEndian.Uint32(ix[0:4])
		typ := binary.BigEndian.Uint32(ix[4:8])
		off := binary.BigEndian.Uint32(ix[8:12])
		n := binary.BigEndian.Uint32(ix[12:16])
		if n == 0 || n > size || off > size || typ > typeI18NString || (typ == typeString && n != 1) {
			return nil, fmt.Errorf("%w: %s: tag %d: bad entry (type %d, offset %d, count %d)", ErrMalformed, what, tag, typ, off, n)
		}
		if _, err := dataLen(store, int(off), int(typ), int(n)); err != nil {
			return nil, fmt.Errorf("%s: tag %d: %w", what, tag, err)
		}
	}
	return b, nil
}

// noEOF turns a bare EOF inside a structure into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
