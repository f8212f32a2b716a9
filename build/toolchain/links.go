// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxLinkHops bounds the links followed resolving one path, as the
// kernel's own limit (40) does.
const maxLinkHops = 40

// checkLinks walks a finished root and refuses any symlink that, resolved
// the way the kernel resolves it from outside the root (chains of links
// included), leads out of the root: each link's target was checked on its
// own as it was unpacked, but "a -> ." with "b -> a/.." only escapes
// together, and a later package may add the other half.
func checkLinks(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if err := resolvesInside(dir, rel); err != nil {
			return err
		}
		return nil
	})
}

// resolvesInside follows the link at rel (relative to dir) component by
// component. The resolved prefix never holds a link, so each Lstat reads
// the root's own entry.
func resolvesInside(dir, rel string) error {
	target, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	var cur []string
	if d := path.Dir(rel); d != "." {
		cur = strings.Split(d, "/")
	}
	pending := strings.Split(target, "/")
	if strings.HasPrefix(target, "/") {
		cur = nil
	}
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return unsafeEntry(rel, "symlink to %q leads out of the root", target)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := append(cur[:len(cur):len(cur)], c)
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(strings.Join(next, "/"))))
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode()&fs.ModeSymlink == 0) {
			cur = next // a missing name resolves no further; what follows is read as written
			continue
		}
		if err != nil {
			return err
		}
		if hops++; hops > maxLinkHops {
			return unsafeEntry(rel, "symlink to %q: too many levels of links", target)
		}
		t, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(strings.Join(next, "/"))))
		if err != nil {
			return err
		}
		if strings.HasPrefix(t, "/") {
			cur = nil
		}
		pending = append(strings.Split(t, "/"), pending...)
	}
	return nil
}
