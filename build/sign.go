// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"fmt"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// Signer signs the finished module before Run writes it, for kernels that
// require signed modules (Secure Boot lockdown, module.sig_enforce=1).
// *modsign.Signer is the standard one: a key file and its certificate
// (modsign.LoadSigner), or any crypto.Signer (a KMS, HSM or PKCS#11 key)
// with its certificate. A provisioning system may plug in its own, for
// example one that sends the module to a signing service.
//
// SignModule gets the unsigned module and returns it with a signature
// appended in the kernel's format (scripts/sign-file's): the module's bytes
// unchanged, then the PKCS#7 signature, its descriptor and the magic.
type Signer interface {
	SignModule(ctx context.Context, module []byte) ([]byte, error)
}

// sign runs opts.Signer over the linked module, if there is one, and
// checks that what comes back is that module with a signature appended:
// a signer that changed the module or returned something else would
// otherwise surface only as the kernel's refusal at load time.
func (r *runner) sign(ctx context.Context, ko []byte) ([]byte, error) {
	if r.opts.Signer == nil {
		return ko, nil
	}
	r.event(StageOutput, 0, 1, "signing %s.ko", r.name)
	signed, err := r.opts.Signer.SignModule(ctx, ko)
	if err != nil {
		return nil, fmt.Errorf("signing %s.ko: %w", r.name, err)
	}
	content, _, err := modsign.Split(signed)
	if err != nil {
		return nil, fmt.Errorf("signing %s.ko: the signer returned no valid module signature: %w", r.name, err)
	}
	if string(content) != string(ko) {
		return nil, fmt.Errorf("signing %s.ko: the signer changed the module, not only appended its signature", r.name)
	}
	return signed, nil
}
