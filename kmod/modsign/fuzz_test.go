// SPDX-License-Identifier: Apache-2.0

package modsign_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// FuzzParse: whatever a module file ends with, Parse and Verify return a
// signature or an error (ErrNotSigned, ErrMalformed, ErrUnknownKey,
// ErrBadSignature) and never panic; a parsed signature's content is a
// prefix of the input.
func FuzzParse(f *testing.F) {
	k := newTestKey(f, "rsa", "fuzz")
	e := newTestKey(f, "ecdsa", "fuzz ec")
	for _, key := range []*testKey{k, e} {
		signed, err := (&modsign.Signer{Key: key.key, Cert: key.cert}).Sign(fakeModule(64))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
	}
	f.Add([]byte(modsign.Magic))
	f.Add(append(make([]byte, 20), modsign.Magic...))
	certs := []*x509.Certificate{k.cert, e.cert}
	f.Fuzz(func(t *testing.T, data []byte) {
		content, p7, err := modsign.Split(data)
		if err != nil {
			if !errors.Is(err, modsign.ErrNotSigned) && !errors.Is(err, modsign.ErrMalformed) {
				t.Fatalf("Split: unexpected error kind: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(data, content) || !bytes.HasPrefix(data[len(content):], p7) {
			t.Fatal("Split's parts are not the input's")
		}
		sig, err := modsign.ParsePKCS7(p7)
		if err != nil {
			if !errors.Is(err, modsign.ErrMalformed) {
				t.Fatalf("ParsePKCS7: unexpected error kind: %v", err)
			}
			return
		}
		_ = sig.KeyID()
		if _, err := sig.Verify(content, certs); err != nil && !errors.Is(err, modsign.ErrUnknownKey) &&
			!errors.Is(err, modsign.ErrBadSignature) && !errors.Is(err, modsign.ErrMalformed) && !errors.Is(err, modsign.ErrUnsupportedKey) {
			t.Fatalf("Verify: unexpected error kind: %v", err)
		}
	})
}
