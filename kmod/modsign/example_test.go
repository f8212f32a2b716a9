// SPDX-License-Identifier: Apache-2.0

package modsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// Sign a module with a key held anywhere a crypto.Signer reaches (a key
// file through LoadSigner, a KMS, an HSM), then read and verify the
// signature as the kernel would.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "example signing key"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{1, 2, 3, 4}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)

	module := []byte("\x7fELF... a kernel module's bytes")
	signed, err := (&modsign.Signer{Key: key, Cert: cert, Hash: crypto.SHA256}).Sign(module)
	if err != nil {
		fmt.Println(err)
		return
	}
	sig, _, err := modsign.Verify(signed, []*x509.Certificate{cert})
	fmt.Println(sig.Signer, sig.KeyID(), sig.HashName(), sig.KeyAlgorithm, err)
	// Output: example signing key 01:02:03:04 sha256 ECDSA <nil>
}
