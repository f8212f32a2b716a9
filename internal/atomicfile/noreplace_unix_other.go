// SPDX-License-Identifier: Apache-2.0

//go:build unix && !linux

package atomicfile

import "golang.org/x/sys/unix"

// renameExclusive: no RENAME_NOREPLACE here; the caller checks first.
func renameExclusive(int, string, string) error { return unix.ENOSYS }
