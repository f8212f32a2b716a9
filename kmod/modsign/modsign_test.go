// SPDX-License-Identifier: Apache-2.0

package modsign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/modsign"
)

func TestSignParseVerify(t *testing.T) {
	rsaKey, ecKey := newTestKey(t, "rsa", "klpkit rsa"), newTestKey(t, "ecdsa", "klpkit ecdsa")
	other := newTestKey(t, "rsa", "someone else")
	for _, tc := range []struct {
		key     *testKey
		hash    crypto.Hash
		algo    string
		hashStr string
	}{
		{rsaKey, crypto.SHA256, "RSA", "sha256"},
		{rsaKey, crypto.SHA384, "RSA", "sha384"},
		{rsaKey, 0, "RSA", "sha512"}, // DefaultHash
		{ecKey, crypto.SHA256, "ECDSA", "sha256"},
		{ecKey, crypto.SHA512, "ECDSA", "sha512"},
	} {
		t.Run(tc.algo+"-"+tc.hashStr, func(t *testing.T) {
			mod := fakeModule(5000)
			s := &modsign.Signer{Key: tc.key.key, Cert: tc.key.cert, Hash: tc.hash}
			signed, err := s.SignModule(t.Context(), mod)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(signed, mod))
			require.True(t, bytes.HasSuffix(signed, []byte(modsign.Magic)))
			desc := signed[len(signed)-len(modsign.Magic)-12 : len(signed)-len(modsign.Magic)]
			sigLen := binary.BigEndian.Uint32(desc[8:])
			assert.Equal(t, []byte{0, 0, 2, 0, 0, 0, 0, 0}, desc[:8], "only id_type is set")
			assert.Equal(t, len(mod)+int(sigLen)+12+len(modsign.Magic), len(signed))

			content, p7, err := modsign.Split(signed)
			require.NoError(t, err)
			assert.Equal(t, mod, content)
			assert.Len(t, p7, int(sigLen))

			sig, err := modsign.Parse(signed)
			require.NoError(t, err)
			assert.Equal(t, tc.key.cert.Issuer.CommonName, sig.Signer)
			assert.Equal(t, 0, sig.SerialNumber.Cmp(tc.key.cert.SerialNumber))
			assert.Equal(t, tc.algo, sig.KeyAlgorithm)
			assert.Equal(t, tc.hashStr, sig.HashName())
			assert.False(t, sig.SignedAttributes)
			assert.Empty(t, sig.SubjectKeyID, "issuer and serial name the signer")

			cert, err := sig.Verify(content, []*x509.Certificate{other.cert, tc.key.cert})
			require.NoError(t, err)
			assert.Equal(t, tc.key.cert, cert)
			assert.Equal(t, tc.key.cert.SubjectKeyId, sig.SubjectKeyID, "Verify fills in the key id")
			assert.Equal(t, hexColons(tc.key.cert.SubjectKeyId), sig.KeyID())

			_, err = sig.Verify(content, []*x509.Certificate{other.cert})
			assert.ErrorIs(t, err, modsign.ErrUnknownKey)
			tampered := bytes.Clone(content)
			tampered[100] ^= 1
			_, err = sig.Verify(tampered, []*x509.Certificate{tc.key.cert})
			assert.ErrorIs(t, err, modsign.ErrBadSignature)
		})
	}
}

func hexColons(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

func TestResignReplaces(t *testing.T) {
	a, b := newTestKey(t, "rsa", "first"), newTestKey(t, "rsa", "second")
	mod := fakeModule(3000)
	sa := &modsign.Signer{Key: a.key, Cert: a.cert, Hash: crypto.SHA256}
	sb := &modsign.Signer{Key: b.key, Cert: b.cert, Hash: crypto.SHA512}
	once, err := sa.Sign(mod)
	require.NoError(t, err)
	twice, err := sb.Sign(once)
	require.NoError(t, err)
	direct, err := sb.Sign(mod)
	require.NoError(t, err)
	assert.Equal(t, direct, twice, "RSA PKCS#1 v1.5 is deterministic: re-signing equals signing the bare module")
	sig, err := modsign.Parse(twice)
	require.NoError(t, err)
	assert.Equal(t, "second", sig.Signer)

	// sign-file run twice stacks signatures; Strip removes them all.
	stacked := append(bytes.Clone(once), once[len(mod):]...)
	stripped, err := modsign.Strip(stacked)
	require.NoError(t, err)
	assert.Equal(t, mod, stripped)
	again, err := sb.Sign(stacked)
	require.NoError(t, err)
	assert.Equal(t, direct, again)

	same, err := modsign.Strip(mod)
	require.NoError(t, err)
	assert.Equal(t, mod, same, "an unsigned module comes back unchanged")
}

func TestSplitMalformed(t *testing.T) {
	k := newTestKey(t, "rsa", "k")
	signed, err := (&modsign.Signer{Key: k.key, Cert: k.cert}).Sign(fakeModule(2000))
	require.NoError(t, err)
	descOff := len(signed) - len(modsign.Magic) - 12
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(signed)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"unsigned", fakeModule(100), modsign.ErrNotSigned},
		{"magic only", []byte(modsign.Magic), modsign.ErrMalformed},
		{"id_type 1 (X.509 ids, not PKCS#7)", edit(func(b []byte) { b[descOff+2] = 1 }), modsign.ErrMalformed},
		{"algo set", edit(func(b []byte) { b[descOff] = 1 }), modsign.ErrMalformed},
		{"key_id_len set", edit(func(b []byte) { b[descOff+4] = 8 }), modsign.ErrMalformed},
		{"sig_len beyond the file", edit(func(b []byte) { binary.BigEndian.PutUint32(b[descOff+8:], 1<<30) }), modsign.ErrMalformed},
		{"sig_len zero", edit(func(b []byte) { binary.BigEndian.PutUint32(b[descOff+8:], 0) }), modsign.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := modsign.Split(tc.in)
			assert.ErrorIs(t, err, tc.want)
			_, err = modsign.Parse(tc.in)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	// A trailer that fits but whose PKCS#7 is damaged.
	sigLen := int(binary.BigEndian.Uint32(signed[descOff+8:]))
	bad := edit(func(b []byte) { b[descOff-sigLen] = 0x31 }) // SEQUENCE → SET
	_, err = modsign.Parse(bad)
	assert.ErrorIs(t, err, modsign.ErrMalformed)
}

func TestSignerErrors(t *testing.T) {
	a, b := newTestKey(t, "rsa", "a"), newTestKey(t, "rsa", "b")
	_, err := (&modsign.Signer{Key: a.key, Cert: b.cert}).Sign(fakeModule(10))
	assert.ErrorIs(t, err, modsign.ErrKeyMismatch)
	_, err = (&modsign.Signer{Key: a.key, Cert: a.cert, Hash: crypto.SHA1}).Sign(fakeModule(10))
	assert.ErrorIs(t, err, modsign.ErrUnsupportedHash)
	_, err = (&modsign.Signer{}).Sign(fakeModule(10))
	assert.Error(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = (&modsign.Signer{Key: a.key, Cert: a.cert}).SignModule(ctx, fakeModule(10))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestParseHash(t *testing.T) {
	for in, want := range map[string]crypto.Hash{"sha256": crypto.SHA256, "SHA384": crypto.SHA384, "sha-512": crypto.SHA512} {
		h, err := modsign.ParseHash(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, h, in)
	}
	for _, in := range []string{"sha1", "md5", "", "sha3-256"} {
		_, err := modsign.ParseHash(in)
		assert.ErrorIs(t, err, modsign.ErrUnsupportedHash, in)
	}
}

// TestLoadSigner reads keys and certificates in the forms sign-file takes:
// PEM (PKCS#8, PKCS#1, SEC 1) or DER, key and certificate in one PEM file.
func TestLoadSigner(t *testing.T) {
	r, e := newTestKey(t, "rsa", "r"), newTestKey(t, "ecdsa", "e")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	rsaPKCS1 := x509.MarshalPKCS1PrivateKey(r.key.(*rsa.PrivateKey))
	rsaPKCS8, err := x509.MarshalPKCS8PrivateKey(r.key)
	require.NoError(t, err)
	ecSEC1, err := x509.MarshalECPrivateKey(e.key.(*ecdsa.PrivateKey))
	require.NoError(t, err)
	rCertPEM, err := os.ReadFile(r.certFile)
	require.NoError(t, err)

	for _, tc := range []struct {
		name, keyFile, certFile string
		want                    *testKey
		err                     error // nil: loads
	}{
		{"pkcs8 pem", r.keyFile, r.certFile, r, nil},
		{"pkcs1 pem, der cert", write("r1.pem", pemOf("RSA PRIVATE KEY", rsaPKCS1)), write("r.der", r.cert.Raw), r, nil},
		{"pkcs1 der", write("r1.der", rsaPKCS1), r.certFile, r, nil},
		{"pkcs8 der", write("r8.der", rsaPKCS8), r.certFile, r, nil},
		{"sec1 pem", write("e.pem", pemOf("EC PRIVATE KEY", ecSEC1)), e.certFile, e, nil},
		{"sec1 der", write("e.der", ecSEC1), write("e.crt.der", e.cert.Raw), e, nil},
		{"key and cert in one file", write("both.pem", append(pemOf("RSA PRIVATE KEY", rsaPKCS1), rCertPEM...)), "", r, nil},
		{"mismatch", r.keyFile, e.certFile, nil, modsign.ErrKeyMismatch},
		{"encrypted", write("enc.pem", pemOf("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})), r.certFile, nil, modsign.ErrEncryptedKey},
		{"legacy encrypted", write("enc1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})), r.certFile, nil, modsign.ErrEncryptedKey},
		{"missing key", filepath.Join(dir, "nope"), r.certFile, nil, os.ErrNotExist},
		{"missing cert", r.keyFile, filepath.Join(dir, "nope"), nil, os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := modsign.LoadSigner(tc.keyFile, tc.certFile, crypto.SHA256)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want.cert.Raw, s.Cert.Raw)
			signed, err := s.Sign(fakeModule(700))
			require.NoError(t, err)
			_, _, err = modsign.Verify(signed, []*x509.Certificate{tc.want.cert})
			assert.NoError(t, err)
		})
	}
	_, err = modsign.LoadSigner(write("garbage", []byte("not a key")), r.certFile, 0)
	assert.ErrorContains(t, err, "garbage")
	_, err = modsign.LoadSigner(r.keyFile, write("garbage.crt", []byte("not a cert")), 0)
	assert.ErrorContains(t, err, "garbage.crt")
}

func TestLoadCertificates(t *testing.T) {
	a, b := newTestKey(t, "rsa", "a"), newTestKey(t, "ecdsa", "b")
	pa, err := os.ReadFile(a.certFile)
	require.NoError(t, err)
	pb, err := os.ReadFile(b.certFile)
	require.NoError(t, err)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	require.NoError(t, os.WriteFile(bundle, append(pa, pb...), 0o644))
	certs, err := modsign.LoadCertificates(bundle, a.certFile)
	require.NoError(t, err)
	require.Len(t, certs, 3)
	assert.Equal(t, []string{"a", "b", "a"}, []string{certs[0].Subject.CommonName, certs[1].Subject.CommonName, certs[2].Subject.CommonName})
	_, err = modsign.LoadCertificates(a.keyFile)
	assert.ErrorContains(t, err, "no CERTIFICATE")
}
