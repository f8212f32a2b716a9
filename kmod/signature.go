// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"crypto/x509"
	"errors"
	"syscall"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// Signature reads the module's appended signature: signer, key id and
// hash algorithm. An unsigned module gives modsign.ErrNotSigned, one the
// kernel would refuse as malformed modsign.ErrMalformed.
func (m *Module) Signature() (*modsign.Signature, error) {
	return modsign.Parse(m.Image)
}

// VerifySignature checks the module's signature against certs, as the
// kernel checks it against its keyrings, and returns the signature and the
// signer's certificate. It fails with modsign.ErrNotSigned,
// modsign.ErrMalformed, modsign.ErrUnknownKey (no certificate is the
// signer's) or modsign.ErrBadSignature (the module changed after signing).
func (m *Module) VerifySignature(certs []*x509.Certificate) (*modsign.Signature, *x509.Certificate, error) {
	return modsign.Verify(m.Image, certs)
}

// Linux errnos of a refused module signature, spelt out so that this
// builds everywhere.
const (
	errnoEBADMSG      = syscall.Errno(74)
	errnoENOKEY       = syscall.Errno(126)
	errnoEKEYREJECTED = syscall.Errno(129)
)

// signHowTo says how to make a module the kernel accepts.
const signHowTo = "; sign it with a key the kernel trusts, built into the kernel or enrolled as a Machine Owner Key " +
	"(mokutil --import <cert.der>, then reboot and confirm): kpatch-build or auto_livepatch --sign-key <key> --sign-cert <cert>, " +
	"or the kernel's scripts/sign-file"

// signatureHint explains a refused signature (ErrSignatureRequired or
// ErrLockdown) by its errno and says what to do.
func signatureHint(err error) string {
	var errno syscall.Errno
	errors.As(err, &errno)
	switch errno {
	case errnoEKEYREJECTED:
		// 5.4+ answers EKEYREJECTED both for a module that is unsigned or
		// signed with an unknown key under enforcement and for a signature
		// that does not verify.
		return " (the kernel requires signed modules (module.sig_enforce=1 or CONFIG_MODULE_SIG_FORCE) and refused this one: " +
			"it is unsigned, signed with a key the kernel does not trust, or changed after signing; dmesg says which" + signHowTo + ")"
	case errnoENOKEY:
		return " (the kernel requires signed modules and none of its keys signed this one: it is unsigned or signed with a key " +
			"the kernel does not trust" + signHowTo + ")"
	case errnoEBADMSG:
		return " (the module's signature is malformed: truncated, or not the PKCS#7 form scripts/sign-file writes" + signHowTo + ")"
	case syscall.EPERM:
		return " (under Secure Boot the kernel is locked down and loads only modules signed with a key it trusts" + signHowTo + ")"
	}
	return " (" + signHowTo[2:] + ")"
}
