// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// hashAlgs are the digests the kernel's PKCS#7 parser knows, with their
// OIDs and those of RSA and ECDSA signatures over them (a signer may name
// rsaEncryption or sha*WithRSAEncryption; sign-file writes the former).
var hashAlgs = []struct {
	hash    crypto.Hash
	name    string
	oid     asn1.ObjectIdentifier
	withRSA asn1.ObjectIdentifier
	ecdsa   asn1.ObjectIdentifier
}{
	{crypto.SHA1, "sha1", asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}},
	{crypto.SHA224, "sha224", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}},
	{crypto.SHA256, "sha256", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}},
	{crypto.SHA384, "sha384", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}},
	{crypto.SHA512, "sha512", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}},
}

// The ASN.1 of RFC 5652 that the module profile uses.
// Content is the [0] EXPLICIT element whole: encoding/asn1 passes a
// RawValue's bytes through as they are, so the wrapper is handled by hand.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue // issuerAndSerialNumber, or [0] subjectKeyIdentifier
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue // the certificate's issuer, byte for byte
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// encodeSignedData builds the detached SignedData sign-file writes: one
// signer named by issuer and serial, no certificates, no attributes. The
// digest algorithm has absent parameters and rsaEncryption a NULL one, as
// OpenSSL writes them.
func encodeSignedData(h crypto.Hash, sigAlg pkix.AlgorithmIdentifier, rawIssuer []byte, serial *big.Int, sig []byte) ([]byte, error) {
	digestOID, ok := hashOID(h)
	if !ok {
		return nil, fmt.Errorf("modsign: no OID for hash %v", h)
	}
	sid, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: rawIssuer}, Serial: serial})
	if err != nil {
		return nil, fmt.Errorf("modsign: encoding the signer id: %w", err)
	}
	digestAlg := pkix.AlgorithmIdentifier{Algorithm: digestOID}
	sd, err := asn1.Marshal(signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{digestAlg},
		EncapContentInfo: encapContentInfo{EContentType: oidData},
		SignerInfos: []signerInfo{{
			Version:            1,
			SID:                asn1.RawValue{FullBytes: sid},
			DigestAlgorithm:    digestAlg,
			SignatureAlgorithm: sigAlg,
			Signature:          sig,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("modsign: encoding SignedData: %w", err)
	}
	out, err := asn1.Marshal(contentInfo{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	if err != nil {
		return nil, fmt.Errorf("modsign: encoding ContentInfo: %w", err)
	}
	return out, nil
}

func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	for _, a := range hashAlgs {
		if a.hash == h {
			return a.oid, true
		}
	}
	return nil, false
}

// hashByOID returns the hash a digest OID names.
func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, a := range hashAlgs {
		if a.oid.Equal(oid) {
			return a.hash, true
		}
	}
	return 0, false
}

// HashName is the kernel's name of h ("sha256"), or h.String() for one the
// kernel does not name.
func HashName(h crypto.Hash) string {
	for _, a := range hashAlgs {
		if a.hash == h {
			return a.name
		}
	}
	return h.String()
}

// keyAlgorithm names the public-key algorithm a signatureAlgorithm OID
// implies for hash h: "RSA" or "ECDSA"; "" when it does not fit h.
func keyAlgorithm(oid asn1.ObjectIdentifier, h crypto.Hash) string {
	if oid.Equal(oidRSA) {
		return "RSA"
	}
	for _, a := range hashAlgs {
		if a.hash != h {
			continue
		}
		switch {
		case a.withRSA.Equal(oid):
			return "RSA"
		case a.ecdsa.Equal(oid):
			return "ECDSA"
		}
	}
	return ""
}
