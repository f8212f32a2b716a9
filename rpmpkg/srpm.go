// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
)

// writeSourcePackage turns rpmpack's output into a source package: rpm
// treats a header as a source header when it has no SOURCERPM tag, and
// rpmpack always writes one. Drop that index entry (its data stays as dead
// bytes in the store), mark the lead as source, and rebuild the signature
// header over the new header.
func writeSourcePackage(w io.Writer, raw []byte, signer Signer) error {
	f, err := splitPackage(raw)
	if err != nil {
		return fmt.Errorf("rewrite source package: %w", err)
	}
	hdr, err := dropHeaderTag(f.header, tagSourceRPM)
	if err != nil {
		return fmt.Errorf("rewrite source package: %w", err)
	}
	lead := append([]byte(nil), f.lead...)
	binary.BigEndian.PutUint16(lead[6:8], 1) // RPMLEAD_SOURCE
	sig, err := signatureHeader(hdr, f.payload, f.payloadSize, signer)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	out.Write(lead)
	out.Write(sig)
	out.Write(make([]byte, (8-len(sig)%8)%8))
	out.Write(hdr)
	out.Write(f.payload)
	_, err = w.Write(out.Bytes())
	return err
}

// rawPackage is a package split into its byte ranges.
type rawPackage struct {
	lead, sig, header, payload []byte
	payloadSize                uint32 // SIG_PAYLOADSIZE (uncompressed), 0 if absent
}

func splitPackage(raw []byte) (*rawPackage, error) {
	if len(raw) < leadSize {
		return nil, fmt.Errorf("%w: short lead", ErrMalformed)
	}
	p := &rawPackage{lead: raw[:leadSize]}
	rest := raw[leadSize:]
	sigLen, err := headerLen(rest)
	if err != nil {
		return nil, err
	}
	p.sig = rest[:sigLen]
	padded := sigLen + (8-sigLen%8)%8
	if padded > len(rest) {
		return nil, fmt.Errorf("%w: truncated signature header", ErrMalformed)
	}
	rest = rest[padded:]
	hdrLen, err := headerLen(rest)
	if err != nil {
		return nil, err
	}
	p.header, p.payload = rest[:hdrLen], rest[hdrLen:]
	if e, ok := findEntry(p.sig, sigTagPayloadSize); ok && e.typ == typeInt32 {
		p.payloadSize = binary.BigEndian.Uint32(e.data)
	}
	return p, nil
}

// headerLen returns the byte length of the header structure at b's start.
func headerLen(b []byte) (int, error) {
	if len(b) < 16 || string(b[:4]) != headerMagic {
		return 0, fmt.Errorf("%w: bad header magic", ErrMalformed)
	}
	n := 16 + 16*int(binary.BigEndian.Uint32(b[8:12])) + int(binary.BigEndian.Uint32(b[12:16]))
	if n > len(b) {
		return 0, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	return n, nil
}

type rawEntry struct {
	tag, typ, offset, count int
	data                    []byte // from offset to the end of the store
}

func findEntry(h []byte, tag int) (rawEntry, bool) {
	count := int(binary.BigEndian.Uint32(h[8:12]))
	store := h[16+16*count:]
	for i := range count {
		ix := h[16+16*i : 32+16*i]
		if int(binary.BigEndian.Uint32(ix[0:4])) != tag {
			continue
		}
		off := int(binary.BigEndian.Uint32(ix[8:12]))
		if off < 0 || off > len(store) {
			return rawEntry{}, false
		}
		return rawEntry{tag: tag, typ: int(binary.BigEndian.Uint32(ix[4:8])), offset: off,
			count: int(binary.BigEndian.Uint32(ix[12:16])), data: store[off:]}, true
	}
	return rawEntry{}, false
}

// dropHeaderTag re-encodes header h without tag. rpm checks that the
// entries' data exactly fills the region, so the store is rebuilt too.
func dropHeaderTag(h []byte, tag int) ([]byte, error) {
	count := int(binary.BigEndian.Uint32(h[8:12]))
	store := h[16+16*count:]
	entries := make(map[int]headerEntry, count)
	found := false
	for i := range count {
		ix := h[16+16*i : 32+16*i]
		t := int(binary.BigEndian.Uint32(ix[0:4]))
		typ := int(binary.BigEndian.Uint32(ix[4:8]))
		off := int(binary.BigEndian.Uint32(ix[8:12]))
		n := int(binary.BigEndian.Uint32(ix[12:16]))
		switch t {
		case tag:
			found = true
			continue
		case tagHeaderImmutable:
			continue // re-created by encodeHeader
		}
		size, err := dataLen(store, off, typ, n)
		if err != nil {
			return nil, fmt.Errorf("tag %d: %w", t, err)
		}
		entries[t] = headerEntry{typ, n, store[off : off+size]}
	}
	if !found {
		return nil, fmt.Errorf("%w: tag %d not in header", ErrMalformed, tag)
	}
	return encodeHeader(tagHeaderImmutable, entries), nil
}

// dataLen is the byte length of count values of type typ at store[off:].
func dataLen(store []byte, off, typ, count int) (int, error) {
	if off < 0 || off > len(store) || count < 0 {
		return 0, fmt.Errorf("%w: entry out of range", ErrMalformed)
	}
	var n int
	switch typ {
	case typeNull:
		return 0, nil
	case typeChar, typeInt8, typeBin:
		n = count
	case typeInt16:
		n = 2 * count
	case typeInt32:
		n = 4 * count
	case typeInt64:
		n = 8 * count
	case typeString, typeStringArray, typeI18NString:
		if typ == typeString {
			count = 1
		}
		for range count {
			end := bytes.IndexByte(store[off+n:], 0)
			if end < 0 {
				return 0, fmt.Errorf("%w: unterminated string", ErrMalformed)
			}
			n += end + 1
		}
	default:
		return 0, fmt.Errorf("%w: unknown data type %d", ErrMalformed, typ)
	}
	if n > len(store)-off {
		return 0, fmt.Errorf("%w: entry data out of range", ErrMalformed)
	}
	return n, nil
}

// headerEntry is a tag value ready to encode.
type headerEntry struct {
	typ, count int
	data       []byte
}

// signatureHeader builds the signature header rpm expects for rpmpack-style
// packages: sizes, the header's SHA256 and, with a signer, OpenPGP
// signatures of the header (RSA tag) and of header+payload (PGP tag).
func signatureHeader(hdr, payload []byte, payloadSize uint32, signer Signer) ([]byte, error) {
	sum := sha256.Sum256(hdr)
	entries := map[int]headerEntry{
		sigTagSize:        int32Entry(uint32(len(hdr) + len(payload))),
		sigTagSHA256:      stringEntry(hex.EncodeToString(sum[:])),
		sigTagPayloadSize: int32Entry(payloadSize),
	}
	if signer != nil {
		hs, err := signer(hdr)
		if err != nil {
			return nil, fmt.Errorf("sign header: %w", err)
		}
		all := append(append([]byte(nil), hdr...), payload...)
		ps, err := signer(all)
		if err != nil {
			return nil, fmt.Errorf("sign header and payload: %w", err)
		}
		entries[sigTagRSA] = headerEntry{typeBin, len(hs), hs}
		entries[sigTagPGP] = headerEntry{typeBin, len(ps), ps}
	}
	return encodeHeader(tagHeaderSignatures, entries), nil
}

func int32Entry(v uint32) headerEntry {
	return headerEntry{typeInt32, 1, binary.BigEndian.AppendUint32(nil, v)}
}

func stringEntry(s string) headerEntry {
	return headerEntry{typeString, 1, append([]byte(s), 0)}
}

// encodeHeader writes a header structure with a region tag: entries sorted
// by tag, integers aligned, the region trailer last in the store.
func encodeHeader(region int, entries map[int]headerEntry) []byte {
	tags := make([]int, 0, len(entries))
	for t := range entries {
		tags = append(tags, t)
	}
	sort.Ints(tags)
	var store bytes.Buffer
	offsets := make([]int, len(tags))
	for i, t := range tags {
		e := entries[t]
		align := map[int]int{typeInt16: 2, typeInt32: 4, typeInt64: 8}[e.typ]
		for align > 0 && store.Len()%align != 0 {
			store.WriteByte(0)
		}
		offsets[i] = store.Len()
		store.Write(e.data)
	}
	n := len(tags) + 1
	trailerAt := store.Len()
	_ = binary.Write(&store, binary.BigEndian, []int32{int32(region), typeBin, int32(-16 * n), 16})
	var out bytes.Buffer
	out.WriteString(headerMagic)
	out.Write(make([]byte, 4))
	_ = binary.Write(&out, binary.BigEndian, []int32{int32(n), int32(store.Len())})
	_ = binary.Write(&out, binary.BigEndian, []int32{int32(region), typeBin, int32(trailerAt), 16})
	for i, t := range tags {
		e := entries[t]
		_ = binary.Write(&out, binary.BigEndian, []int32{int32(t), int32(e.typ), int32(offsets[i]), int32(e.count)})
	}
	out.Write(store.Bytes())
	return out.Bytes()
}
