// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package rpmpkg

import (
	"io/fs"
	"time"
)

// atime falls back to the mtime where the stat layout is not known here.
func atime(fi fs.FileInfo) time.Time { return fi.ModTime() }
