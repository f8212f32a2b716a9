// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// DefaultHash is the digest a Signer uses when none is set: Photon's
// kernels are configured with CONFIG_MODULE_SIG_SHA512.
const DefaultHash = crypto.SHA512

var (
	// ErrUnsupportedHash: the digest is not one modules are signed with here
	// (sha256, sha384, sha512).
	ErrUnsupportedHash = errors.New("unsupported module signature hash (want sha256, sha384 or sha512)")
	// ErrUnsupportedKey: the key is neither RSA nor ECDSA, the kinds the
	// kernel verifies modules with.
	ErrUnsupportedKey = errors.New("unsupported module signing key (want RSA or ECDSA)")
	// ErrKeyMismatch: the private key is not the certificate's.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
)

// ParseHash maps a hash name as sign-file takes it ("sha256", "sha384",
// "sha512"; case and a dash are ignored) to its crypto.Hash.
func ParseHash(name string) (crypto.Hash, error) {
	switch strings.ReplaceAll(strings.ToLower(name), "-", "") {
	case "sha256":
		return crypto.SHA256, nil
	case "sha384":
		return crypto.SHA384, nil
	case "sha512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("hash %q: %w", name, ErrUnsupportedHash)
}

// Signer signs modules with one key and its X.509 certificate. Key may be
// any crypto.Signer: a parsed key file (LoadSigner), or a KMS, HSM or
// PKCS#11 key that signs a digest with RSA PKCS#1 v1.5 or ECDSA when
// passed a crypto.Hash. The kernel finds the certificate by its issuer and
// serial number in its keyrings.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	// Hash is the digest; 0 means DefaultHash.
	Hash crypto.Hash
}

// SignModule signs a module image; it makes *Signer a build.Signer.
func (s *Signer) SignModule(ctx context.Context, module []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Sign(module)
}

// Sign returns module with a signature appended in sign-file's format. A
// signature the module already carries is replaced, not stacked.
func (s *Signer) Sign(module []byte) ([]byte, error) {
	if s.Key == nil || s.Cert == nil {
		return nil, errors.New("modsign: Signer needs a Key and a Cert")
	}
	h := s.hash()
	if h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		return nil, fmt.Errorf("modsign: %v: %w", h, ErrUnsupportedHash)
	}
	if !h.Available() {
		return nil, fmt.Errorf("modsign: %v is not linked into this binary: %w", h, ErrUnsupportedHash)
	}
	sigAlg, err := signatureAlgorithm(s.Key.Public(), h)
	if err != nil {
		return nil, err
	}
	if k, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(s.Cert.PublicKey) {
		return nil, fmt.Errorf("modsign: certificate %q: %w", s.Cert.Subject, ErrKeyMismatch)
	}
	content, err := Strip(module)
	if err != nil {
		return nil, fmt.Errorf("modsign: removing the old signature: %w", err)
	}
	d := h.New()
	d.Write(content)
	digest := d.Sum(nil)
	sig, err := s.Key.Sign(rand.Reader, digest, h)
	if err != nil {
		return nil, fmt.Errorf("modsign: signing with the key of %q: %w", s.Cert.Subject, err)
	}
	// A remote signer that padded differently (RSA-PSS) or signed the wrong
	// digest would give a module the kernel rejects: catch it here.
	if err := checkSignature(s.Cert.PublicKey, h, digest, sig); err != nil {
		return nil, fmt.Errorf("modsign: the key of %q made a signature its certificate does not verify (an RSA signer must use PKCS#1 v1.5): %w", s.Cert.Subject, err)
	}
	p7, err := encodeSignedData(h, sigAlg, s.Cert.RawIssuer, s.Cert.SerialNumber, sig)
	if err != nil {
		return nil, err
	}
	return appendSignature(content, p7), nil
}

// signatureAlgorithm is what OpenSSL names in SignerInfo: rsaEncryption
// with NULL parameters for RSA, ecdsa-with-SHAn without parameters for
// ECDSA.
func signatureAlgorithm(pub crypto.PublicKey, h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSA, Parameters: asn1.NullRawValue}, nil
	case *ecdsa.PublicKey:
		for _, a := range hashAlgs {
			if a.hash == h {
				return pkix.AlgorithmIdentifier{Algorithm: a.ecdsa}, nil
			}
		}
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("modsign: %v: %w", h, ErrUnsupportedHash)
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("modsign: %T: %w", pub, ErrUnsupportedKey)
}

// checkSignature verifies sig over digest with pub.
func checkSignature(pub crypto.PublicKey, h crypto.Hash, digest, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ecdsa: verification error")
		}
		return nil
	}
	return fmt.Errorf("%T: %w", pub, ErrUnsupportedKey)
}
