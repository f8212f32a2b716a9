// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package kmod

import (
	"os"
	"syscall"
)

// HostKernel does the module syscalls on the running kernel; outside Linux
// every call returns ErrUnsupported.
type HostKernel struct{}

// FinitModule returns ErrUnsupported.
func (HostKernel) FinitModule(*os.File, string, int) error { return ErrUnsupported }

// InitModule returns ErrUnsupported.
func (HostKernel) InitModule([]byte, string) error { return ErrUnsupported }

// DeleteModule returns ErrUnsupported.
func (HostKernel) DeleteModule(string, int) error { return ErrUnsupported }

// Release returns ErrUnsupported.
func (HostKernel) Release() (string, error) { return "", ErrUnsupported }

// isSignatureErrno is false: there are no module signatures here.
func isSignatureErrno(syscall.Errno) bool { return false }
