// SPDX-License-Identifier: Apache-2.0

//go:build unix

package livepatch

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity names the file at p (not following a link) by device and
// inode, which a rename keeps; "" when it cannot be read.
func fileIdentity(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d", uint64(st.Dev), uint64(st.Ino))
}
