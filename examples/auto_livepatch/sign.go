// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// signUsage documents --sign-key, --sign-cert and --sign-hash.
const signUsage = `  --sign-key <file>        sign the module with this private key (PEM or
                           DER, RSA or ECDSA), as the kernel's
                           scripts/sign-file does: needed where the kernel
                           requires signed modules (Secure Boot lockdown,
                           module.sig_enforce=1); not --signing-key, which
                           checks the kernel RPMs
  --sign-cert <file>       the key's X.509 certificate (PEM or DER; default:
                           the key file, when it holds both); the target
                           must trust it (built in, or enrolled as a MOK)
  --sign-hash <alg>        sha256, sha384 or sha512 (default: sha512)
`

// signFlags are the module-signing options.
type signFlags struct {
	key, cert, hash string
}

// check refuses certificate or hash options without a key.
func (f *signFlags) check() error {
	if f.key == "" && (f.cert != "" || f.hash != "") {
		return errors.New("--sign-cert and --sign-hash need --sign-key")
	}
	if f.hash != "" {
		if _, err := modsign.ParseHash(f.hash); err != nil {
			return fmt.Errorf("--sign-hash: %w", err)
		}
	}
	return nil
}

// signer loads the key and certificate; nil without --sign-key.
func (f *signFlags) signer() (*modsign.Signer, error) {
	if f.key == "" {
		return nil, nil
	}
	h := modsign.DefaultHash
	if f.hash != "" {
		var err error
		if h, err = modsign.ParseHash(f.hash); err != nil {
			return nil, fmt.Errorf("--sign-hash: %w", err)
		}
	}
	return modsign.LoadSigner(f.key, f.cert, h)
}

// moduleSigner is j's signer as build.Options takes it: a nil interface
// when the module stays unsigned.
func (j *job) moduleSigner() build.Signer {
	if j.signer == nil {
		return nil
	}
	return j.signer
}
