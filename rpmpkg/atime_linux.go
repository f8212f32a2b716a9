// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"io/fs"
	"syscall"
	"time"
)

func atime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	return fi.ModTime()
}
