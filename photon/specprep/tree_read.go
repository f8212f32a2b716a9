// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/beneath"
)

// treeRoot picks the root (build or source directory) that holds the clean
// absolute path p and returns p relative to it.
func (r *prepRunner) treeRoot(p string) (root, rel string, err error) {
	for _, root := range []string{r.buildDir, r.sourceDir} {
		if underRoot(p, root) {
			rel, err := filepath.Rel(root, p)
			return root, rel, err
		}
	}
	return "", "", errors.New("path is outside the build and source directories")
}

// readInside reads p (already checked by inside) without following links
// out of its root, so a link swapped in by a patch cannot leak a host file.
func (r *prepRunner) readInside(l SpecLine, p string) ([]byte, os.FileMode, error) {
	root, rel, err := r.treeRoot(p)
	if err != nil {
		return nil, 0, r.fail(l, "%s: %v", p, err)
	}
	data, mode, err := beneath.ReadTreeFile(root, rel)
	if err != nil {
		return nil, 0, r.fail(l, "%v", err)
	}
	return data, mode, nil
}

// openInside opens p for reading without following links out of its root.
func (r *prepRunner) openInside(l SpecLine, p string) (*os.File, error) {
	root, rel, err := r.treeRoot(p)
	if err != nil {
		return nil, r.fail(l, "%s: %v", p, err)
	}
	f, err := beneath.Open(root, rel)
	if err != nil {
		return nil, r.fail(l, "%v", err)
	}
	return f, nil
}
