// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod

import (
	"os"

	"golang.org/x/sys/unix"
)

// HostKernel does the module syscalls on the running kernel.
type HostKernel struct{}

// FinitModule calls finit_module(2).
func (HostKernel) FinitModule(f *os.File, params string, flags int) error {
	return unix.FinitModule(int(f.Fd()), params, flags)
}

// InitModule calls init_module(2).
func (HostKernel) InitModule(image []byte, params string) error {
	return unix.InitModule(image, params)
}

// DeleteModule calls delete_module(2).
func (HostKernel) DeleteModule(name string, flags int) error {
	return unix.DeleteModule(name, flags)
}

// Release returns uname -r.
func (HostKernel) Release() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// isSignatureErrno reports the errnos of a missing, unknown or malformed
// module signature.
func isSignatureErrno(e unix.Errno) bool {
	return e == unix.ENOKEY || e == unix.EKEYREJECTED || e == unix.EBADMSG
}
