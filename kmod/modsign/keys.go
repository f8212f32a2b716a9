// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ErrEncryptedKey: the private key file is passphrase-protected; decrypt
// it first (openssl pkey -in key.pem -out plain.pem) or use a Signer with
// a key from a KMS or HSM.
var ErrEncryptedKey = errors.New("encrypted private keys are not supported")

// LoadSigner reads a private key and its certificate, each PEM or DER, for
// signing with hash h (0: DefaultHash). certFile "" reads the certificate
// from keyFile, as the kernel's certs/signing_key.pem holds both.
func LoadSigner(keyFile, certFile string, h crypto.Hash) (*Signer, error) {
	keyData, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := ParsePrivateKey(keyData)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", keyFile, err)
	}
	certData := keyData
	if certFile == "" {
		certFile = keyFile
	} else if certData, err = os.ReadFile(certFile); err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	certs, err := ParseCertificates(certData)
	if err != nil {
		return nil, fmt.Errorf("signing certificate %s: %w", certFile, err)
	}
	s := &Signer{Key: key, Cert: certs[0], Hash: h}
	if k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(s.Cert.PublicKey) {
		return nil, fmt.Errorf("signing key %s and certificate %s (%s): %w", keyFile, certFile, s.Cert.Subject, ErrKeyMismatch)
	}
	if _, err := signatureAlgorithm(key.Public(), s.hash()); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", keyFile, err)
	}
	return s, nil
}

func (s *Signer) hash() crypto.Hash {
	if s.Hash == 0 {
		return DefaultHash
	}
	return s.Hash
}

// ParsePrivateKey reads an RSA or ECDSA private key: PEM (PKCS#8, PKCS#1
// or SEC 1; other PEM blocks such as a certificate are skipped) or DER.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch b.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, ErrEncryptedKey
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if _, ok := b.Headers["DEK-Info"]; ok {
				return nil, ErrEncryptedKey
			}
			return parseDERKey(b.Bytes)
		}
	}
	if sawPEM {
		return nil, errors.New("no PRIVATE KEY block in the PEM data")
	}
	return parseDERKey(data)
}

func parseDERKey(der []byte) (crypto.Signer, error) {
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			if key, err = x509.ParseECPrivateKey(der); err != nil {
				return nil, errors.New("not a PKCS#8, PKCS#1 or SEC 1 private key")
			}
		}
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T: %w", key, ErrUnsupportedKey)
	}
	return s, nil
}

// ParseCertificates reads X.509 certificates: every CERTIFICATE block of
// PEM data (other blocks skipped), or one DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if sawPEM {
		if len(certs) == 0 {
			return nil, errors.New("no CERTIFICATE block in the PEM data")
		}
		return certs, nil
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{c}, nil
}

// LoadCertificates reads the certificates of each file (PEM or DER).
func LoadCertificates(files ...string) ([]*x509.Certificate, error) {
	var all []*x509.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", f, err)
		}
		all = append(all, certs...)
	}
	return all, nil
}
