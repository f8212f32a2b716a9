// SPDX-License-Identifier: Apache-2.0

//go:build unix

package rpmpkg

import (
	"io/fs"
	"syscall"
)

// idOf is the device and inode of fi, which name one file however it is
// renamed.
func idOf(fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} // Dev is int32 on some unixes
	}
	return fileID{}
}
