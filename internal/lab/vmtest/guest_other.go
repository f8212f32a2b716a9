// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package vmtest

import "errors"

// InGuest reports whether this process is the /init of a vmtest guest:
// never, off Linux.
func InGuest() bool { return false }

// SetupGuest is only supported on Linux.
func SetupGuest() error { return errors.ErrUnsupported }

// Dmesg is only supported on Linux.
func Dmesg() (string, error) { return "", errors.ErrUnsupported }

// ExitGuest is only supported on Linux; it panics elsewhere.
func ExitGuest(verdict byte) { panic("vmtest: ExitGuest outside a Linux guest") }

// watchStdout is only supported on Linux.
func watchStdout() (func() string, error) { return nil, errors.ErrUnsupported }
