// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// ErrBadSignature is returned when a package is unsigned, or not signed by
// one of the trusted keys, or its signature does not verify.
var ErrBadSignature = errors.New("photon: package signature check failed")

// Signature header tags (rpm's RPMSIGTAG_*).
const (
	sigTagDSAHeader = 267  // header-only, DSA
	sigTagRSAHeader = 268  // header-only, RSA/EdDSA (what rpm >= 4.14 writes)
	sigTagPGP       = 1002 // legacy header+payload, RSA
	sigTagGPG       = 1005 // legacy header+payload, DSA
)

// maxHeaderBytes bounds the index and store of an RPM header (rpm's own
// limit is 256 MiB for the main header's store).
const maxHeaderBytes = 256 << 20

// VerifyRPMSignature checks an RPM file's OpenPGP signature against keys
// (armored or binary public keys, e.g. Photon's VMWARE-RPM-GPG-KEY) and
// returns the signer's identity.
//
// It checks the header-only signature that rpm >= 4.14 writes (the header
// holds the payload's SHA-256, which rpmpkg.Extract verifies, so together
// they cover the whole package); packages with only the legacy
// header+payload signature are checked over header and payload.
func VerifyRPMSignature(file string, keys []byte) (string, error) {
	ring, err := readKeyRing(keys)
	if err != nil {
		return "", err
	}
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	sigs, err := readSignatureHeader(r)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrBadSignature, file, err)
	}
	header, err := readRawHeader(r)
	if err != nil {
		return "", fmt.Errorf("%w: %s: main header: %w", ErrBadSignature, file, err)
	}
	var signed io.Reader
	var sig []byte
	switch {
	case sigs[sigTagRSAHeader] != nil || sigs[sigTagDSAHeader] != nil:
		sig = sigs[sigTagRSAHeader]
		if sig == nil {
			sig = sigs[sigTagDSAHeader]
		}
		signed = bytes.NewReader(header)
	case sigs[sigTagPGP] != nil || sigs[sigTagGPG] != nil:
		sig = sigs[sigTagPGP]
		if sig == nil {
			sig = sigs[sigTagGPG]
		}
		signed = io.MultiReader(bytes.NewReader(header), r)
	default:
		return "", fmt.Errorf("%w: %s is not signed", ErrBadSignature, file)
	}
	signer, err := openpgp.CheckDetachedSignature(ring, signed, bytes.NewReader(sig), nil)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrBadSignature, file, err)
	}
	for id := range signer.Identities {
		return id, nil
	}
	return fmt.Sprintf("key %X", signer.PrimaryKey.KeyId), nil
}

func readKeyRing(keys []byte) (openpgp.EntityList, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(keys))
	if err != nil {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(keys))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the trusted keys: %w", ErrBadSignature, err)
	}
	if len(ring) == 0 {
		return nil, fmt.Errorf("%w: no trusted keys given", ErrBadSignature)
	}
	return ring, nil
}

// readSignatureHeader skips the lead and returns the binary-typed entries
// of the signature header; r is left at the main header.
func readSignatureHeader(r io.Reader) (map[int][]byte, error) {
	lead := make([]byte, 96)
	if _, err := io.ReadFull(r, lead); err != nil {
		return nil, fmt.Errorf("lead: %w", err)
	}
	if !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, errors.New("not an RPM file (bad lead magic)")
	}
	if binary.BigEndian.Uint16(lead[78:80]) != 5 {
		return nil, errors.New("unknown signature type in the lead")
	}
	raw, err := readRawHeader(r)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	if pad := (8 - len(raw)%8) % 8; pad > 0 {
		if _, err := io.ReadFull(r, make([]byte, pad)); err != nil {
			return nil, fmt.Errorf("signature header padding: %w", err)
		}
	}
	n := int(binary.BigEndian.Uint32(raw[8:12]))
	store := raw[16+16*n:]
	out := map[int][]byte{}
	for i := 0; i < n; i++ {
		e := raw[16+16*i : 32+16*i]
		tag := int(binary.BigEndian.Uint32(e[0:4]))
		typ := binary.BigEndian.Uint32(e[4:8])
		off := int64(binary.BigEndian.Uint32(e[8:12]))
		count := int64(binary.BigEndian.Uint32(e[12:16]))
		if typ != 7 { // RPM_BIN_TYPE
			continue
		}
		if off+count > int64(len(store)) {
			return nil, fmt.Errorf("signature tag %d lies outside the store", tag)
		}
		out[tag] = store[off : off+count]
	}
	return out, nil
}

// readRawHeader reads one header structure (intro, index, store) verbatim.
func readRawHeader(r io.Reader) ([]byte, error) {
	intro := make([]byte, 16)
	if _, err := io.ReadFull(r, intro); err != nil {
		return nil, err
	}
	if !bytes.Equal(intro[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return nil, errors.New("bad header magic")
	}
	n := int64(binary.BigEndian.Uint32(intro[8:12]))
	size := int64(binary.BigEndian.Uint32(intro[12:16]))
	total := 16*n + size
	if total > maxHeaderBytes {
		return nil, fmt.Errorf("header of %d bytes is too large", total)
	}
	buf := make([]byte, 16+total)
	copy(buf, intro)
	if _, err := io.ReadFull(r, buf[16:]); err != nil {
		return nil, err
	}
	return buf, nil
}
