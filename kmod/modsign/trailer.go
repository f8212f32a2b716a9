// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic ends every signed module.
const Magic = "~Module signature appended~\n"

// descriptorLen is the size of struct module_signature: algo, hash,
// id_type, signer_len, key_id_len (one byte each), three pad bytes and the
// big-endian u32 sig_len.
const descriptorLen = 12

// idPKCS7 is PKEY_ID_PKCS7, the only id_type the kernel accepts.
const idPKCS7 = 2

var (
	// ErrNotSigned: the module carries no appended signature.
	ErrNotSigned = errors.New("module is not signed")
	// ErrMalformed: the signature trailer or its PKCS#7 data is not in the
	// form the kernel accepts (the kernel's EBADMSG or ENOPKG).
	ErrMalformed = errors.New("malformed module signature")
)

// Split separates a signed module into the bytes the signature covers and
// the signature's PKCS#7 SignedData (DER). An unsigned module gives
// ErrNotSigned; a trailer the kernel would refuse gives ErrMalformed.
func Split(module []byte) (content, pkcs7 []byte, err error) {
	body, ok := bytes.CutSuffix(module, []byte(Magic))
	if !ok {
		return nil, nil, ErrNotSigned
	}
	if len(body) < descriptorLen {
		return nil, nil, fmt.Errorf("%w: %d bytes before the magic, shorter than the %d-byte descriptor", ErrMalformed, len(body), descriptorLen)
	}
	d := body[len(body)-descriptorLen:]
	if d[2] != idPKCS7 {
		return nil, nil, fmt.Errorf("%w: id_type %d, want %d (PKCS#7)", ErrMalformed, d[2], idPKCS7)
	}
	if d[0] != 0 || d[1] != 0 || d[3] != 0 || d[4] != 0 {
		return nil, nil, fmt.Errorf("%w: descriptor fields algo, hash, signer_len, key_id_len must be 0 for PKCS#7 (% x)", ErrMalformed, d[:5])
	}
	n := binary.BigEndian.Uint32(d[8:])
	rest := len(body) - descriptorLen
	// The kernel refuses sig_len >= the size left after the descriptor.
	if uint64(n) >= uint64(rest) || n == 0 {
		return nil, nil, fmt.Errorf("%w: sig_len %d does not fit the %d bytes before the descriptor", ErrMalformed, n, rest)
	}
	return body[:rest-int(n)], body[rest-int(n) : rest], nil
}

// Strip returns the module without its appended signatures (sign-file run
// twice stacks two; the kernel checks only the last). An unsigned module
// comes back unchanged.
func Strip(module []byte) ([]byte, error) {
	for {
		content, _, err := Split(module)
		if errors.Is(err, ErrNotSigned) {
			return module, nil
		}
		if err != nil {
			return nil, err
		}
		module = content
	}
}

// appendSignature appends pkcs7 and its trailer to content.
func appendSignature(content, pkcs7 []byte) []byte {
	out := make([]byte, 0, len(content)+len(pkcs7)+descriptorLen+len(Magic))
	out = append(out, content...)
	out = append(out, pkcs7...)
	var d [descriptorLen]byte
	d[2] = idPKCS7
	binary.BigEndian.PutUint32(d[8:], uint32(len(pkcs7)))
	out = append(out, d[:]...)
	return append(out, Magic...)
}
