// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// maxLinkDepth bounds how many symlinks one check follows, as the kernel's
// limit of 40 does.
const maxLinkDepth = 40

var errLinkLoop = errors.New("too many levels of symbolic links")

// resolvesInside reports whether a symlink in directory dir (relative,
// clean, a real directory) pointing at target stays inside dest now and
// whatever later entries do. The kernel resolves "x/.." from where x
// points, not lexically, so a chain such as "c/d -> .." and
// "v -> c/d/../secret" climbs out although each target reads as inside.
// The rule (the tarball unpacker's, made strict):
//
//   - ".." is allowed only while every component before it is a real
//     directory; directories are never replaced during an extraction, so
//     the lexical answer stays the kernel's answer;
//   - a symlink met on the way must itself resolve inside (this catches
//     links that were in dest before the extraction);
//   - after a symlink, a file or a name not created yet (any of which may
//     later be replaced by a symlink), only plain names may follow.
func (x *extractor) resolvesInside(dir, target string, depth int) (bool, error) {
	if depth > maxLinkDepth {
		return false, errLinkLoop
	}
	if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) {
		return false, nil
	}
	cur := dir // lexical position while every component is a real directory
	settled := true
	for _, part := range strings.Split(target, "/") {
		switch {
		case part == "" || part == ".":
			continue
		case part == "..":
			if !settled || cur == "." {
				return false, nil
			}
			cur = path.Dir(cur)
			continue
		case !settled:
			continue
		}
		next := path.Join(cur, part)
		fi, err := x.root.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			settled = false
		case err != nil:
			return false, err
		case fi.IsDir():
			cur = next
		case fi.Mode()&fs.ModeSymlink != 0:
			inner, err := x.root.Readlink(next)
			if err != nil {
				return false, err
			}
			ok, err := x.resolvesInside(cur, inner, depth+1)
			if !ok || err != nil {
				return ok, err
			}
			settled = false
		default:
			settled = false
		}
	}
	return true, nil
}
