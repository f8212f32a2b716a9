// SPDX-License-Identifier: Apache-2.0

package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// writeKeyCert writes an RSA key and its self-signed certificate as PEM.
func writeKeyCert(t *testing.T, cn string) (keyFile, certFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return keyFile, certFile
}

func TestSignFlags(t *testing.T) {
	c := newCLI(t)
	key, cert := writeKeyCert(t, "kpatch-build test")
	otherKey, _ := writeKeyCert(t, "other")

	require.NoError(t, c.run("-s", c.tree, "--sign-key", key, "--sign-cert", cert, "--sign-hash", "sha256", c.patch))
	s, ok := c.got.Signer.(*modsign.Signer)
	require.True(t, ok, "the file-based signer: %T", c.got.Signer)
	assert.Equal(t, crypto.SHA256, s.Hash)
	assert.Equal(t, "kpatch-build test", s.Cert.Subject.CommonName)
	assert.Contains(t, c.out.String(), "Signing with CN=kpatch-build test (sha256)\n")
	signed, err := c.got.Signer.SignModule(t.Context(), []byte("\x7fELF module"))
	require.NoError(t, err)
	sig, _, err := modsign.Verify(signed, []*x509.Certificate{s.Cert})
	require.NoError(t, err)
	assert.Equal(t, "sha256", sig.HashName())

	require.NoError(t, c.run("-s", c.tree, "--sign-key", key, "--sign-cert", cert, c.patch))
	assert.Equal(t, crypto.SHA512, c.got.Signer.(*modsign.Signer).Hash, "Photon's kernels sign with sha512")

	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Nil(t, c.got.Signer, "unsigned without --sign-key")

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"cert without key", []string{"--sign-cert", cert}, "ERROR: --sign-cert and --sign-hash need --sign-key.\n"},
		{"hash without key", []string{"--sign-hash", "sha256"}, "ERROR: --sign-cert and --sign-hash need --sign-key.\n"},
		{"bad hash", []string{"--sign-key", key, "--sign-cert", cert, "--sign-hash", "md5"}, "ERROR: --sign-hash: hash \"md5\": unsupported module signature hash"},
		{"missing key", []string{"--sign-key", filepath.Join(t.TempDir(), "nope"), "--sign-cert", cert}, "ERROR: signing key: open "},
		{"no cert in the key file", []string{"--sign-key", key}, "no CERTIFICATE block"},
		{"key of another cert", []string{"--sign-key", otherKey, "--sign-cert", cert}, "private key does not match the certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.run(append([]string{"-s", c.tree, c.patch}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, c.err.String(), tc.msg)
			assert.Nil(t, c.got, "nothing built")
		})
	}
}
