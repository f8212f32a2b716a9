// SPDX-License-Identifier: Apache-2.0

package modsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
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

	"github.com/stretchr/testify/require"
)

// testKey is a key and its self-signed certificate, also written as PEM
// files.
type testKey struct {
	key      crypto.Signer
	cert     *x509.Certificate
	keyFile  string // PKCS#8 PEM
	certFile string // PEM
}

// newTestKey makes a key of kind "rsa" (2048 bits) or "ecdsa" (P-256) and a
// self-signed certificate for it named cn.
func newTestKey(t testing.TB, kind, cn string) *testKey {
	t.Helper()
	var key crypto.Signer
	var err error
	switch kind {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("key kind %q", kind)
	}
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"klpkit tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// The kernel's x509_genkey config marks module keys with codeSigning.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		// Go adds a subject key id only to CA certificates; the kernel's
		// openssl-made keys have one.
		SubjectKeyId: serial.FillBytes(make([]byte, 16))[:8],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	dir := t.TempDir()
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	k := &testKey{key: key, cert: cert, keyFile: filepath.Join(dir, "key.pem"), certFile: filepath.Join(dir, "cert.pem")}
	require.NoError(t, os.WriteFile(k.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600))
	require.NoError(t, os.WriteFile(k.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return k
}

// fakeModule is module-like content: signing does not look inside.
func fakeModule(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF")
	for i := 4; i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}
