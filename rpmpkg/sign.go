// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// SignerOptions configure NewOpenPGPSigner; nil = defaults.
type SignerOptions struct {
	// Passphrase decrypts an encrypted private key.
	Passphrase []byte
	// Time is the signature creation time. Set it to the package's
	// BuildTime: with a fixed time, RSA signatures are deterministic and
	// signed packages stay reproducible (other key types are salted, so
	// their packages differ in the signature bytes). Zero = time.Now().
	Time time.Time
}

// NewOpenPGPSigner returns a Signer making binary detached OpenPGP
// signatures (SHA256) with the first private key in key (armored or
// binary keyring). rpm ≥ 4.14 verifies them (rpmkeys -K).
func NewOpenPGPSigner(key io.Reader, opts *SignerOptions) (Signer, error) {
	var o SignerOptions
	if opts != nil {
		o = *opts
	}
	raw, err := io.ReadAll(key)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(raw))
	if err != nil {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	var signer *openpgp.Entity
	for _, e := range ring {
		if e.PrivateKey != nil {
			signer = e
			break
		}
	}
	if signer == nil {
		return nil, fmt.Errorf("signing key: no private key in the keyring")
	}
	if signer.PrivateKey.Encrypted {
		if err := signer.PrivateKey.Decrypt(o.Passphrase); err != nil {
			return nil, fmt.Errorf("signing key: decrypt: %w", err)
		}
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA256}
	if signer.PrivateKey.PubKeyAlgo == packet.PubKeyAlgoRSA {
		// go-crypto salts v4 signatures by default (fault protection for
		// EdDSA); RSA PKCS#1 v1.5 needs none, and without the salt the
		// signature is deterministic, so signed packages are reproducible.
		deterministic := false
		cfg.NonDeterministicSignaturesViaNotation = &deterministic
	}
	if !o.Time.IsZero() {
		cfg.Time = func() time.Time { return o.Time }
	}
	return func(data []byte) ([]byte, error) {
		var sig bytes.Buffer
		if err := openpgp.DetachSign(&sig, signer, bytes.NewReader(data), cfg); err != nil {
			return nil, fmt.Errorf("OpenPGP sign: %w", err)
		}
		return sig.Bytes(), nil
	}, nil
}
