// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"errors"
	"fmt"
)

// ErrNoKey: a certificate or hash was given without a key.
var ErrNoKey = errors.New("a signing certificate or hash needs a signing key")

// FileOptions name a signing key and its certificate in files, as a
// command line gives them (kpatch-build's and auto_livepatch's
// --sign-key, --sign-cert and --sign-hash). The zero value signs
// nothing.
type FileOptions struct {
	// Key is the private key file (PEM or DER, RSA or ECDSA); "" = no
	// signing.
	Key string
	// Cert is the key's X.509 certificate file (PEM or DER); "" = the
	// key file, when it holds both (as the kernel's certs/signing_key.pem).
	Cert string
	// Hash is the digest by name, as ParseHash takes it; "" = DefaultHash.
	Hash string
}

// Validate checks o without reading the files: Cert or Hash without Key
// is ErrNoKey, a hash ParseHash refuses is its error (ErrUnsupportedHash).
func (o FileOptions) Validate() error {
	if o.Key == "" && (o.Cert != "" || o.Hash != "") {
		return ErrNoKey
	}
	if o.Hash != "" {
		if _, err := ParseHash(o.Hash); err != nil {
			return err
		}
	}
	return nil
}

// Signer validates o and loads the key and certificate (LoadSigner); nil
// and no error without a Key.
func (o FileOptions) Signer() (*Signer, error) {
	if err := o.Validate(); err != nil || o.Key == "" {
		return nil, err
	}
	h := DefaultHash
	if o.Hash != "" {
		h, _ = ParseHash(o.Hash) // Validate checked it
	}
	return LoadSigner(o.Key, o.Cert, h)
}

// String describes the signer as the CLIs report it: the certificate's
// subject and the hash, e.g. "CN=fleet key (sha512)".
func (s *Signer) String() string {
	if s == nil || s.Cert == nil {
		return "no signer"
	}
	return fmt.Sprintf("%s (%s)", s.Cert.Subject, HashName(s.hash()))
}
