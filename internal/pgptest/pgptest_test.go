// SPDX-License-Identifier: Apache-2.0

package pgptest

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKey(t *testing.T) {
	created := time.Unix(1700000000, 0).UTC()
	for _, tc := range []struct {
		name string
		o    Options
		algo packet.PublicKeyAlgorithm
		user string
	}{
		{"zero", Options{}, packet.PubKeyAlgoEdDSA, "klpkit test"},
		{"rsa", Options{Name: "RSA key", RSA: true, Created: created}, packet.PubKeyAlgoRSA, "RSA key"},
		{"locked", Options{RSA: true, Passphrase: "s3cret"}, packet.PubKeyAlgoRSA, "klpkit test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			priv, pub := Key(t, tc.o)
			pubs, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
			require.NoError(t, err)
			require.Len(t, pubs, 1)
			assert.Nil(t, pubs[0].PrivateKey, "the public key holds no private key")
			assert.Equal(t, tc.algo, pubs[0].PrimaryKey.PubKeyAlgo)
			assert.Contains(t, pubs[0].Identities, tc.user+" <test@klpkit.invalid>")
			if !tc.o.Created.IsZero() {
				assert.Equal(t, created, pubs[0].PrimaryKey.CreationTime.UTC())
			}

			privs, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(priv))
			require.NoError(t, err)
			require.Len(t, privs, 1)
			require.NotNil(t, privs[0].PrivateKey)
			assert.Equal(t, pubs[0].PrimaryKey.Fingerprint, privs[0].PrimaryKey.Fingerprint, "one key pair")
			assert.Equal(t, tc.o.Passphrase != "", privs[0].PrivateKey.Encrypted)
			if tc.o.Passphrase != "" {
				assert.Error(t, privs[0].PrivateKey.Decrypt([]byte("wrong")))
				require.NoError(t, privs[0].PrivateKey.Decrypt([]byte(tc.o.Passphrase)))
			}
		})
	}
}

func TestSigner(t *testing.T) {
	// A stand-in for rpmpkg.NewOpenPGPSigner: the key ring it is given.
	read := func(r io.Reader, _ *struct{}) (openpgp.EntityList, error) { return openpgp.ReadArmoredKeyRing(r) }
	privs, pub := Signer(t, Options{Name: "signer"}, read)
	require.Len(t, privs, 1)
	require.NotNil(t, privs[0].PrivateKey, "the signer is made of the private key")
	pubs, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
	require.NoError(t, err)
	require.Len(t, pubs, 1)
	assert.Equal(t, pubs[0].PrimaryKey.Fingerprint, privs[0].PrimaryKey.Fingerprint, "one key pair")
}
