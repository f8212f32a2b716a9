// SPDX-License-Identifier: Apache-2.0

// Package modsign signs Linux kernel modules and reads their signatures, in
// the format the kernel's scripts/sign-file writes and the module loader
// verifies (module_sig_check):
//
//	[module image][PKCS#7 SignedData, DER][struct module_signature, 12 bytes]["~Module signature appended~\n"]
//
// The SignedData is detached (it does not hold the module), carries no
// certificates and no signed attributes, and names its signer by the
// certificate's issuer and serial number. The descriptor is all zero except
// id_type 2 (PKEY_ID_PKCS7) and the big-endian length of the SignedData.
// RSA PKCS#1 v1.5 signatures are deterministic, so for the same key,
// certificate, hash and module Sign writes the same bytes as sign-file.
//
// A Signer holds any crypto.Signer (a key file through LoadSigner, or a
// KMS, HSM or PKCS#11 key) with its certificate; it satisfies build.Signer.
// Parse reads a signed module's signature and Signature.Verify checks it
// against certificates, as the kernel checks against its keyrings.
//
// Why encoding/asn1 rather than a CMS library: the kernel accepts one
// narrow profile (no signed attributes, issuer and serial signer id, no
// certificates), no CMS module is among klpkit's dependencies or the Go
// modules vetted for it, and the profile takes about a hundred lines of
// encoding/asn1, which keeps the exact bytes under this package's control.
package modsign
