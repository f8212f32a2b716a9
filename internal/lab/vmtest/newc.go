// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"fmt"
	"io"
)

// newcWriter writes a cpio archive in the "newc" (SVR4, no checksum) format
// the kernel unpacks as initramfs. It supports what an initramfs needs:
// directories, regular files, symlinks and device nodes.
type newcWriter struct {
	w     io.Writer
	ino   int64
	off   int64
	err   error
	names map[string]bool
}

// newcEntry describes one archive member. Mode carries the type bits
// (S_IFDIR, S_IFREG, S_IFCHR, S_IFLNK) and the permissions.
type newcEntry struct {
	Name         string
	Mode         uint32
	Data         []byte // file contents or symlink target
	RdevMajor    uint32
	RdevMinor    uint32
	DataFromFile io.Reader // used instead of Data when set; Size bytes
	Size         int64
}

const (
	modeDir  = 0o040000
	modeReg  = 0o100000
	modeChr  = 0o020000
	modeLink = 0o120000
)

func (n *newcWriter) write(p []byte) {
	if n.err != nil {
		return
	}
	var w int
	w, n.err = n.w.Write(p)
	n.off += int64(w)
}

func (n *newcWriter) pad() {
	if r := n.off % 4; r != 0 {
		n.write(make([]byte, 4-r))
	}
}

// add writes one member. Names are relative ("init", "dev/console").
func (n *newcWriter) add(e newcEntry) error {
	if n.names == nil {
		n.names = map[string]bool{}
	}
	if n.names[e.Name] {
		return fmt.Errorf("initramfs: %s added twice", e.Name)
	}
	n.names[e.Name] = true
	size := int64(len(e.Data))
	if e.DataFromFile != nil {
		size = e.Size
	}
	n.ino++
	nlink := 1
	if e.Mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		n.ino, e.Mode, 0, 0, nlink, 0, size, 0, 0, e.RdevMajor, e.RdevMinor, len(e.Name)+1, 0)
	n.write([]byte(hdr))
	n.write(append([]byte(e.Name), 0))
	n.pad()
	if e.DataFromFile != nil {
		if n.err == nil {
			var c int64
			c, n.err = io.CopyN(n.w, e.DataFromFile, size)
			n.off += c
		}
	} else {
		n.write(e.Data)
	}
	n.pad()
	return n.err
}

// close writes the trailer.
func (n *newcWriter) close() error {
	n.ino = 0
	return n.add(newcEntry{Name: "TRAILER!!!"})
}
