// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// signUsage documents --sign-key, --sign-cert and --sign-hash.
const signUsage = `       --sign-key FILE     Sign the module with this private key (PEM or
                           DER, RSA or ECDSA), as the kernel's
                           scripts/sign-file does: needed where the kernel
                           requires signed modules (Secure Boot lockdown,
                           module.sig_enforce=1)
       --sign-cert FILE    The key's X.509 certificate (PEM or DER; default:
                           the key file, when it holds both); the kernel
                           must trust it (built in, or enrolled as a MOK)
       --sign-hash ALG     sha256, sha384 or sha512 (default: sha512)
`

// signOptionsErr names the flags in modsign.FileOptions' errors.
func signOptionsErr(err error) error {
	switch {
	case errors.Is(err, modsign.ErrNoKey):
		return errors.New("--sign-cert and --sign-hash need --sign-key")
	case errors.Is(err, modsign.ErrUnsupportedHash):
		return fmt.Errorf("--sign-hash: %w", err)
	}
	return err
}
