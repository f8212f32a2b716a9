// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"path"
	"strings"
)

// cleanEntryName maps a payload name to a path relative to the package
// root. rpm writes "./usr/..." (rpmbuild) or "/usr/..." (rpmpack); both mean
// the package root, so the leading "./" or "/" is dropped. Names that climb
// out with "..", or are empty, are refused (ok=false); the root itself
// cleans to ".".
func cleanEntryName(name string) (string, bool) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false // refuse even when Clean would fold it away
		}
	}
	rel := strings.TrimLeft(path.Clean("/"+name), "/")
	if rel == "" {
		return ".", true
	}
	return rel, true
}

// symlinkStaysInside reports whether a symlink at rel (relative, clean)
// pointing at target resolves inside the root, judged lexically. Absolute
// targets are refused: they point at the host, not at dest.
func symlinkStaysInside(rel, target string) bool {
	if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) {
		return false
	}
	resolved := path.Join(path.Dir(rel), target)
	return resolved != ".." && !strings.HasPrefix(resolved, "../")
}

// parentDirs lists rel's parent directories, outermost first.
func parentDirs(rel string) []string {
	var dirs []string
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' {
			dirs = append(dirs, rel[:i])
		}
	}
	return dirs
}
