// SPDX-License-Identifier: Apache-2.0

package main

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// signatureFields prints what info shows of a module's signature, under
// modinfo's names (signer, sig_key, sig_hashalgo). With certificate files
// (--cert) it verifies the signature against them, as the kernel does
// against its keyrings, and returns an error when it does not verify.
func signatureFields(field func(k, v string), m *kmod.Module, certFiles []string) error {
	var certs []*x509.Certificate
	if len(certFiles) > 0 {
		var err error
		if certs, err = modsign.LoadCertificates(certFiles...); err != nil {
			return err
		}
	}
	sig, err := m.Signature()
	if errors.Is(err, modsign.ErrNotSigned) {
		if certs != nil {
			return fmt.Errorf("module %s is not signed", m.Name)
		}
		return nil
	}
	if err != nil {
		field("signature", err.Error())
		return nil
	}
	var verr error
	var cert *x509.Certificate
	if certs != nil {
		sig, cert, verr = m.VerifySignature(certs) // fills in the subject key id
	}
	field("signer", sig.Signer)
	field("sig_key", sig.KeyID())
	field("sig_hashalgo", sig.HashName())
	field("sig_keyalgo", sig.KeyAlgorithm)
	switch {
	case certs == nil:
	case verr != nil:
		field("sig_verified", "no")
		return fmt.Errorf("signature of %s: %w", m.Name, verr)
	default:
		field("sig_verified", "yes, by "+cert.Subject.String())
	}
	return nil
}
