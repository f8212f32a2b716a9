// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// writeSigningKey writes an ECDSA key and its certificate: the key as
// SEC 1 PEM, and both together in one PEM file (as the kernel's
// certs/signing_key.pem).
func writeSigningKey(t *testing.T, cn string) (keyFile, certFile, both string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	dir := t.TempDir()
	keyFile, certFile, both = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "signing_key.pem")
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o644))
	require.NoError(t, os.WriteFile(both, append(keyPEM, certPEM...), 0o600))
	return keyFile, certFile, both
}

func TestSignFlags(t *testing.T) {
	c := newCLI(t)
	key, cert, both := writeSigningKey(t, "fleet livepatch key")
	otherKey, _, _ := writeSigningKey(t, "other")

	require.NoError(t, c.run("-p", c.patch, "--sign-key", key, "--sign-cert", cert, "--sign-hash", "sha384"))
	s, ok := c.got.Signer.(*modsign.Signer)
	require.True(t, ok, "modsign's file signer: %T", c.got.Signer)
	assert.Equal(t, crypto.SHA384, s.Hash)
	assert.Equal(t, "fleet livepatch key", s.Cert.Subject.CommonName)
	assert.Contains(t, c.out.String(), "Signing the module with CN=fleet livepatch key (sha384)\n")
	signed, err := c.got.Signer.SignModule(context.Background(), []byte("\x7fELF module"))
	require.NoError(t, err)
	_, _, err = modsign.Verify(signed, []*x509.Certificate{s.Cert})
	require.NoError(t, err)

	require.NoError(t, c.run("-p", c.patch, "--sign-key", both))
	assert.Equal(t, crypto.SHA512, c.got.Signer.(*modsign.Signer).Hash, "default sha512, as Photon's kernels")

	require.NoError(t, c.run("-p", c.patch))
	assert.Nil(t, c.got.Signer, "unsigned without --sign-key")
	assert.NotContains(t, c.out.String(), "Signing")

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"cert without key", []string{"--sign-cert", cert}, "ERROR: --sign-cert and --sign-hash need --sign-key\n"},
		{"bad hash", []string{"--sign-key", key, "--sign-cert", cert, "--sign-hash", "sha1"}, "ERROR: --sign-hash: hash \"sha1\": unsupported"},
		{"missing key", []string{"--sign-key", filepath.Join(t.TempDir(), "nope.pem")}, "ERROR: signing key: open "},
		{"wrong key", []string{"--sign-key", otherKey, "--sign-cert", cert}, "private key does not match the certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.run(append([]string{"-p", c.patch}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, c.err.String(), tc.msg)
			assert.Nil(t, c.got, "nothing built")
		})
	}
}
