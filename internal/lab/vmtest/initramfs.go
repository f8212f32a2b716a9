// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// File is one file placed into the guest's initramfs.
type File struct {
	// Guest is the absolute path inside the guest, e.g. "/lab/sample.ko".
	Guest string
	// Host is the file to copy; if empty, Data is used.
	Host string
	// Data is the contents when Host is empty.
	Data []byte
	// Mode is the permission bits; 0 means 0644 (0755 for /init).
	Mode os.FileMode
}

// WriteInitramfs writes a gzip-compressed newc cpio archive holding files,
// their parent directories, the mount points /proc, /sys, /dev, /tmp and
// the /dev/console node the kernel opens for init's standard streams.
func WriteInitramfs(w io.Writer, files []File) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := writeCPIO(zw, files); err != nil {
		return err
	}
	return zw.Close()
}

func writeCPIO(w io.Writer, files []File) error {
	cw := &newcWriter{w: w}
	dirs := map[string]bool{"dev": true, "proc": true, "sys": true, "tmp": true}
	names := make([]string, 0, len(files))
	for _, f := range files {
		name, err := guestName(f.Guest)
		if err != nil {
			return err
		}
		names = append(names, name)
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents before children
	for _, d := range sorted {
		mode := uint32(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := cw.add(newcEntry{Name: d, Mode: modeDir | mode}); err != nil {
			return err
		}
	}
	// The kernel opens /dev/console for init before anything mounts devtmpfs.
	if err := cw.add(newcEntry{Name: "dev/console", Mode: modeChr | 0o600, RdevMajor: 5, RdevMinor: 1}); err != nil {
		return err
	}
	for i, f := range files {
		if err := addFile(cw, names[i], f); err != nil {
			return err
		}
	}
	return cw.close()
}

// guestName turns an absolute guest path into an archive name, refusing
// paths that are empty, relative or climb out of the root.
func guestName(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("initramfs: guest path %q is not absolute", p)
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" || name == "." || strings.HasPrefix(name, "../") || name == ".." {
		return "", fmt.Errorf("initramfs: bad guest path %q", p)
	}
	return name, nil
}

func addFile(cw *newcWriter, name string, f File) error {
	mode := uint32(f.Mode.Perm())
	if mode == 0 {
		mode = 0o644
		if name == "init" {
			mode = 0o755
		}
	}
	if f.Host == "" {
		return cw.add(newcEntry{Name: name, Mode: modeReg | mode, Data: f.Data})
	}
	src, err := os.Open(f.Host)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("initramfs: %s is not a regular file", f.Host)
	}
	if err := cw.add(newcEntry{Name: name, Mode: modeReg | mode, DataFromFile: src, Size: fi.Size()}); err != nil {
		return fmt.Errorf("initramfs: %s: %w", f.Host, err)
	}
	return nil
}
