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
	// Passphrase decrypts an encrypted private key. From a file, read it
	// with ReadPassphraseFile (the first line).
	Passphrase []byte
	// Time is the signature creation time. Set it to the package's
	// BuildTime: with a fixed time, RSA signatures are deterministic and
	// signed packages stay reproducible (other key types are salted, so
	// their packages differ in the signature bytes). A time before the key
	// was made (or self-signed) is replaced by that moment, at which the
	// signature is valid. Zero = time.Now().
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
		// A key made after the build time (the commit's) cannot make a
		// valid signature dated then: date it when the key became valid,
		// which is as fixed as the build time, so output stays reproducible.
		at := o.Time
		if from := keyValidFrom(signer); at.Before(from) {
			at = from
		}
		cfg.Time = func() time.Time { return at }
	}
	return func(data []byte) ([]byte, error) {
		var sig bytes.Buffer
		if err := openpgp.DetachSign(&sig, signer, bytes.NewReader(data), cfg); err != nil {
			return nil, fmt.Errorf("OpenPGP sign: %w", err)
		}
		return sig.Bytes(), nil
	}, nil
}

// keyValidFrom is the newest creation time among e's keys and their
// self-signatures: a signature dated earlier would predate its key.
func keyValidFrom(e *openpgp.Entity) time.Time {
	from := e.PrimaryKey.CreationTime
	later := func(t time.Time) {
		if t.After(from) {
			from = t
		}
	}
	for _, id := range e.Identities {
		if id.SelfSignature != nil {
			later(id.SelfSignature.CreationTime)
		}
	}
	for _, sub := range e.Subkeys {
		later(sub.PublicKey.CreationTime)
		if sub.Sig != nil {
			later(sub.Sig.CreationTime)
		}
	}
	return from
}
