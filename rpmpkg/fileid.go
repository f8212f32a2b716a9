// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"io/fs"
	"strconv"
)

// fileID identifies an entry by device and inode. The journal records it
// for every package name it creates, moves or chmods, so that a rollback
// touches only what is still the entry the extraction handled: another
// process may have replaced it meanwhile, and that one stays. The zero
// fileID means unknown (platforms without inodes): the name decides.
type fileID struct{ dev, ino uint64 }

func (id fileID) fields() []string {
	return []string{strconv.FormatUint(id.dev, 10), strconv.FormatUint(id.ino, 10)}
}

// parseFileID reads the two fields fields() wrote.
func parseFileID(dev, ino string) (fileID, bool) {
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	return fileID{d, i}, err1 == nil && err2 == nil
}

// is reports whether fi is the entry id names.
func (id fileID) is(fi fs.FileInfo) bool {
	return id == (fileID{}) || idOf(fi) == id
}
