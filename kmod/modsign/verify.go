// SPDX-License-Identifier: Apache-2.0

package modsign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

var (
	// ErrUnknownKey: none of the given certificates is the signer's (the
	// kernel answers ENOKEY when none of its keyrings holds it).
	ErrUnknownKey = errors.New("module signed with a key not among the given certificates")
	// ErrBadSignature: the signer's certificate does not verify the
	// signature over the module (the kernel's EKEYREJECTED).
	ErrBadSignature = errors.New("module signature does not verify")
)

// Signature describes a module's signature.
type Signature struct {
	// Signer is the common name of the signer's certificate issuer (what
	// modinfo prints as "signer"); the whole issuer when it has no CN.
	Signer string
	Issuer pkix.Name
	// SerialNumber is the certificate's serial number when the signer is
	// named by issuer and serial (sign-file's default), else nil.
	SerialNumber *big.Int
	// SubjectKeyID is the certificate's subject key identifier when the
	// signer is named by it (sign-file -k), or once Verify found the
	// certificate.
	SubjectKeyID []byte
	Hash         crypto.Hash
	// KeyAlgorithm is "RSA" or "ECDSA".
	KeyAlgorithm string
	// SignedAttributes is set when the signer signed attributes rather than
	// the module directly (sign-file never does).
	SignedAttributes bool

	rawIssuer   []byte
	signedAttrs []byte // the [0] IMPLICIT SET, as encoded
	sig         []byte
}

// KeyID identifies the key as modinfo's sig_key does: the subject key
// identifier when known, else the serial number, in colon-separated hex.
func (s *Signature) KeyID() string {
	b := s.SubjectKeyID
	if len(b) == 0 && s.SerialNumber != nil {
		b = s.SerialNumber.Bytes()
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

// HashName is the digest's kernel name, e.g. "sha512".
func (s *Signature) HashName() string { return HashName(s.Hash) }

// Parse reads the signature of a signed module. It returns ErrNotSigned
// for an unsigned module and ErrMalformed for a signature outside the
// form the kernel accepts.
func Parse(module []byte) (*Signature, error) {
	_, p7, err := Split(module)
	if err != nil {
		return nil, err
	}
	return ParsePKCS7(p7)
}

// ParsePKCS7 reads a module signature's PKCS#7 SignedData (DER).
func ParsePKCS7(der []byte) (*Signature, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fmt.Errorf("%w: ContentInfo: %w", ErrMalformed, err)
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the ContentInfo", ErrMalformed, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v, want signedData", ErrMalformed, ci.ContentType)
	}
	if ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, fmt.Errorf("%w: ContentInfo content is not [0] EXPLICIT", ErrMalformed)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: SignedData: %w", ErrMalformed, err)
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the SignedData", ErrMalformed, len(rest))
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidData) {
		return nil, fmt.Errorf("%w: encapsulated content type %v, want data", ErrMalformed, sd.EncapContentInfo.EContentType)
	}
	if len(sd.EncapContentInfo.EContent.FullBytes) != 0 {
		return nil, fmt.Errorf("%w: the SignedData holds content; a module signature is detached", ErrMalformed)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", ErrMalformed, len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	h, ok := hashByOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: unknown digest algorithm %v", ErrMalformed, si.DigestAlgorithm.Algorithm)
	}
	s := &Signature{Hash: h, KeyAlgorithm: keyAlgorithm(si.SignatureAlgorithm.Algorithm, h), sig: si.Signature}
	if s.KeyAlgorithm == "" {
		return nil, fmt.Errorf("%w: signature algorithm %v does not fit digest %s", ErrMalformed, si.SignatureAlgorithm.Algorithm, HashName(h))
	}
	if len(si.SignedAttrs.FullBytes) != 0 {
		s.SignedAttributes = true
		s.signedAttrs = si.SignedAttrs.FullBytes
	}
	if err := s.parseSID(si.SID); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Signature) parseSID(sid asn1.RawValue) error {
	switch {
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound:
		s.SubjectKeyID = sid.Bytes
		s.Signer = fmt.Sprintf("key %X", sid.Bytes)
		return nil
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) != 0 {
			return fmt.Errorf("%w: signer identifier: issuer and serial: %v", ErrMalformed, err)
		}
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(ias.Issuer.FullBytes, &rdn); err != nil || len(rest) != 0 {
			return fmt.Errorf("%w: signer identifier: issuer name: %v", ErrMalformed, err)
		}
		s.Issuer.FillFromRDNSequence(&rdn)
		s.rawIssuer = ias.Issuer.FullBytes
		s.SerialNumber = ias.Serial
		s.Signer = s.Issuer.CommonName
		if s.Signer == "" {
			s.Signer = s.Issuer.String()
		}
		return nil
	}
	return fmt.Errorf("%w: signer identifier is neither issuer and serial nor a key identifier", ErrMalformed)
}

// Verify checks the signature over content (the module without its
// signature, as Split returns it) against certs, as the kernel checks it
// against its keyrings, and returns the signer's certificate. Only the
// signature is checked: not the certificate's validity or chain, which the
// kernel does not check for module keys either.
func (s *Signature) Verify(content []byte, certs []*x509.Certificate) (*x509.Certificate, error) {
	cert := s.find(certs)
	if cert == nil {
		return nil, fmt.Errorf("signer %s (key %s): %w", s.Signer, s.KeyID(), ErrUnknownKey)
	}
	d := s.Hash.New()
	d.Write(content)
	digest := d.Sum(nil)
	if s.signedAttrs != nil {
		var err error
		if digest, err = s.attributesDigest(digest); err != nil {
			return cert, err
		}
	}
	if err := checkSignature(cert.PublicKey, s.Hash, digest, s.sig); err != nil {
		return cert, fmt.Errorf("certificate %q: %w: %w", cert.Subject, ErrBadSignature, err)
	}
	if len(cert.SubjectKeyId) != 0 {
		s.SubjectKeyID = cert.SubjectKeyId
	}
	return cert, nil
}

// find returns the certificate the signer identifier names.
func (s *Signature) find(certs []*x509.Certificate) *x509.Certificate {
	for _, c := range certs {
		if s.SerialNumber != nil {
			if bytes.Equal(c.RawIssuer, s.rawIssuer) && c.SerialNumber.Cmp(s.SerialNumber) == 0 {
				return c
			}
		} else if len(s.SubjectKeyID) != 0 && bytes.Equal(c.SubjectKeyId, s.SubjectKeyID) {
			return c
		}
	}
	return nil
}

// attributesDigest checks the messageDigest attribute against the
// content's digest and returns the digest of the attributes, which is what
// was signed (RFC 5652 5.4: the DER of the SET OF, not the [0] tag).
func (s *Signature) attributesDigest(contentDigest []byte) ([]byte, error) {
	var attrs []attribute
	if rest, err := asn1.UnmarshalWithParams(s.signedAttrs, &attrs, "set,tag:0"); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: signed attributes: %v", ErrMalformed, err)
	}
	found := false
	for _, a := range attrs {
		if !a.Type.Equal(oidMessageDigest) {
			continue
		}
		var md []byte
		if rest, err := asn1.Unmarshal(a.Values.Bytes, &md); err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: messageDigest attribute: %v", ErrMalformed, err)
		}
		if !bytes.Equal(md, contentDigest) {
			return nil, fmt.Errorf("%w: the messageDigest attribute is not the module's digest", ErrBadSignature)
		}
		found = true
	}
	if !found {
		return nil, fmt.Errorf("%w: signed attributes without a messageDigest", ErrMalformed)
	}
	set := append([]byte(nil), s.signedAttrs...)
	set[0] = 0x31 // SET OF, constructed, in place of [0] IMPLICIT
	d := s.Hash.New()
	d.Write(set)
	return d.Sum(nil), nil
}

// Verify reads a signed module's signature and checks it against certs.
func Verify(module []byte, certs []*x509.Certificate) (*Signature, *x509.Certificate, error) {
	content, p7, err := Split(module)
	if err != nil {
		return nil, nil, err
	}
	s, err := ParsePKCS7(p7)
	if err != nil {
		return nil, nil, err
	}
	cert, err := s.Verify(content, certs)
	return s, cert, err
}
