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

	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// newSigner makes an RSA module signer whose certificate is also written
// as a PEM file.
func newSigner(t *testing.T, cn string, skid []byte) (*modsign.Signer, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x1234), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: skid}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return &modsign.Signer{Key: key, Cert: cert, Hash: crypto.SHA384}, certFile
}

func TestInfoSignature(t *testing.T) {
	e := newCLI(t, nil)
	s, certFile := newSigner(t, "klpkit fleet key", []byte{0xde, 0xad, 0xbe, 0xef})
	_, otherCert := newSigner(t, "someone else", []byte{1})
	signed, err := s.Sign(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "lp", Livepatch: true}))
	require.NoError(t, err)
	path := filepath.Join(e.dir, "lp.ko")
	require.NoError(t, os.WriteFile(path, signed, 0o644))

	require.NoError(t, e.run("info", path))
	out := e.out.String()
	assert.Contains(t, out, "signed:         yes\n")
	assert.Contains(t, out, "signer:         klpkit fleet key\n")
	assert.Contains(t, out, "sig_key:        12:34\n", "without certificates, the serial number, as modinfo shows it")
	assert.Contains(t, out, "sig_hashalgo:   sha384\n")
	assert.Contains(t, out, "sig_keyalgo:    RSA\n")
	assert.NotContains(t, out, "sig_verified")

	require.NoError(t, e.run("info", "--cert", otherCert, "--cert="+certFile, path))
	out = e.out.String()
	assert.Contains(t, out, "sig_key:        DE:AD:BE:EF\n", "the certificate's subject key id once it is known")
	assert.Contains(t, out, "sig_verified:   yes, by CN=klpkit fleet key\n")

	require.Error(t, e.run("info", "--cert", otherCert, path))
	assert.Contains(t, e.out.String(), "sig_verified:   no\n")
	assert.Contains(t, e.err.String(), "module signed with a key not among the given certificates")

	unsigned := e.module(t, "plain.ko", "plain")
	require.NoError(t, e.run("info", unsigned))
	assert.Contains(t, e.out.String(), "signed:         no\n")
	assert.NotContains(t, e.out.String(), "signer:")
	require.Error(t, e.run("info", "--cert", certFile, unsigned))
	assert.Contains(t, e.err.String(), "module plain is not signed")

	fake := e.module(t, "fake.ko", "fake", kmodtest.ModuleSpec{Name: "fake", Livepatch: true, Signed: true})
	require.NoError(t, e.run("info", fake))
	assert.Contains(t, e.out.String(), "signature:      malformed module signature")

	require.Error(t, e.run("info", "--cert", filepath.Join(e.dir, "missing.pem"), path))
	assert.Contains(t, e.err.String(), "missing.pem")
}

// TestLoadRefusedSignature: on a kernel that enforces signatures, kpatch
// load says why the module was refused and how to sign it, and loads it
// once it is signed with a key the kernel trusts.
func TestLoadRefusedSignature(t *testing.T) {
	s, _ := newSigner(t, "trusted livepatch key", []byte{7})
	e := newCLI(t, &kmodtest.Config{SigEnforce: true, TrustedKeys: []*x509.Certificate{s.Cert}})
	unsigned := e.module(t, "lp.ko", "lp")
	require.Error(t, e.run("load", unsigned))
	msg := e.err.String()
	assert.Contains(t, msg, "kpatch: failed to load module "+unsigned)
	assert.Contains(t, msg, "the kernel requires signed modules")
	assert.Contains(t, msg, "mokutil --import")
	assert.Contains(t, msg, "--sign-key")
	assert.Empty(t, e.k.Loaded())

	data, err := os.ReadFile(unsigned)
	require.NoError(t, err)
	signed, err := s.Sign(data)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(unsigned, signed, 0o644))
	require.NoError(t, e.run("load", unsigned), "stderr: %s", e.err.String())
	assert.Equal(t, []string{"lp"}, e.k.Loaded())
}
