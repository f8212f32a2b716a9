// SPDX-License-Identifier: Apache-2.0

package kmodtest

import (
	"errors"
	"syscall"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// Linux's EKEYREJECTED and EBADMSG, spelt out so that the fake builds
// everywhere.
const (
	errEKEYREJECTED = syscall.Errno(129)
	errEBADMSG      = syscall.Errno(74)
)

// checkSignature answers as module_sig_check does: a signature that is
// malformed or does not verify is refused always; an unsigned module, or
// one signed with a key the kernel does not hold, only under enforcement
// (EKEYREJECTED since 5.4, ENOKEY on 4.19) or lockdown (EPERM).
func (k *Kernel) checkSignature(img []byte, m *kmod.Module) error {
	trusted := m.Signed
	if k.cfg.TrustedKeys != nil {
		_, _, err := modsign.Verify(img, k.cfg.TrustedKeys)
		switch {
		case err == nil:
			trusted = true
		case errors.Is(err, modsign.ErrMalformed):
			return errEBADMSG
		case errors.Is(err, modsign.ErrBadSignature):
			return errEKEYREJECTED
		default: // unsigned, or a key the kernel does not hold
			trusted = false
		}
	}
	switch {
	case trusted:
		return nil
	case k.cfg.SigEnforce && k.legacy:
		return errENOKEY
	case k.cfg.SigEnforce:
		return errEKEYREJECTED
	case k.cfg.Lockdown:
		return syscall.EPERM
	}
	return nil
}
