// SPDX-License-Identifier: Apache-2.0

// Package pgptest makes the OpenPGP keys tests sign with: RPMs for rpmpkg,
// photon/kernelsrc and build/photontoolchain, the lab's repositories, the
// examples' signing flags. It does not import rpmpkg, so that rpmpkg's own
// tests can use it too: Signer takes rpmpkg.NewOpenPGPSigner as an argument.
package pgptest

import (
	"bytes"
	"crypto"
	"io"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Options say what key to make. The zero value is an Ed25519 key named
// "klpkit test", made now.
type Options struct {
	// Name is the user ID's name (its e-mail is test@klpkit.invalid).
	Name string
	// RSA makes an RSA 2048 key signing with SHA-256, what rpmkeys
	// reports as "RSA/SHA256"; otherwise the key is Ed25519 (fast).
	RSA bool
	// Created is when the key was made (its self-signatures too); now
	// when zero.
	Created time.Time
	// Passphrase, when set, encrypts the private key with it.
	Passphrase string
}

// Key makes a key pair as o says and returns its armored private and
// public keys. It fails the test if go-crypto cannot.
func Key(t testing.TB, o Options) (private, public []byte) {
	t.Helper()
	if o.Name == "" {
		o.Name = "klpkit test"
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	if o.RSA {
		cfg = &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, DefaultHash: crypto.SHA256}
	}
	if !o.Created.IsZero() {
		cfg.Time = func() time.Time { return o.Created }
	}
	e, err := openpgp.NewEntity(o.Name, "", "test@klpkit.invalid", cfg)
	if err != nil {
		t.Fatalf("pgptest: make key %q: %v", o.Name, err)
	}
	var priv, pub bytes.Buffer
	armored(t, &priv, openpgp.PrivateKeyType, func(w io.Writer) error {
		if o.Passphrase == "" {
			return e.SerializePrivate(w, cfg)
		}
		// An encrypted key cannot re-sign its identities: it is written
		// with the self-signatures NewEntity made.
		if err := e.EncryptPrivateKeys([]byte(o.Passphrase), cfg); err != nil {
			return err
		}
		return e.SerializePrivateWithoutSigning(w, cfg)
	})
	armored(t, &pub, openpgp.PublicKeyType, e.Serialize)
	return priv.Bytes(), pub.Bytes()
}

// Signer makes a key as o says and returns the signer newSigner makes of
// its private key with nil options (pass rpmpkg.NewOpenPGPSigner), and the
// armored public key.
func Signer[S, O any](t testing.TB, o Options, newSigner func(io.Reader, *O) (S, error)) (S, []byte) {
	t.Helper()
	priv, pub := Key(t, o)
	s, err := newSigner(bytes.NewReader(priv), nil)
	if err != nil {
		t.Fatalf("pgptest: signer of key %q: %v", o.Name, err)
	}
	return s, pub
}

// armored writes what serialize writes into out as an armored block of
// blockType, failing the test on an error.
func armored(t testing.TB, out io.Writer, blockType string, serialize func(io.Writer) error) {
	t.Helper()
	w, err := armor.Encode(out, blockType, nil)
	if err == nil {
		err = serialize(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("pgptest: write the %s: %v", blockType, err)
	}
}
