// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// debAlternatives are the links Debian's maintainer scripts make through
// update-alternatives that build tools call by the generic name. No
// maintainer script runs in a root, so the root makes them itself: the
// first candidate present wins, in Debian's priority order (gawk 10 over
// mawk 5).
var debAlternatives = []struct {
	link       string
	candidates []string
}{
	{"usr/bin/awk", []string{"usr/bin/gawk", "usr/bin/mawk", "usr/bin/original-awk"}},
	{"usr/bin/nawk", []string{"usr/bin/gawk", "usr/bin/mawk", "usr/bin/original-awk"}},
	{"usr/bin/yacc", []string{"usr/bin/bison.yacc", "usr/bin/byacc"}},
}

// makeAlternatives creates the alternatives links a root lacks.
func makeAlternatives(root *os.Root) error {
	for _, a := range debAlternatives {
		if _, err := root.Lstat(a.link); err == nil {
			continue
		}
		for _, c := range a.candidates {
			fi, err := root.Stat(c)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("alternative %s: %w", c, err)
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			if err := root.Symlink(path.Base(c), a.link); err != nil {
				return fmt.Errorf("alternative %s -> %s: %w", a.link, c, err)
			}
			break
		}
	}
	return nil
}
