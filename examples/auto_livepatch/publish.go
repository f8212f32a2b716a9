// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// publish moves the finished outputs (files in staging) into dir, all of
// them or none. An earlier output of the same name is replaced, as
// auto_livepatch.sh's rebuilds do, but never silently and never lost: it
// is first moved aside into staging, put back if any output fails to move
// in, and each one replaced is returned for the caller to report. A
// directory in an output's place is refused, not replaced.
func publish(outputs []string, dir, staging string) (placed, replaced []string, err error) {
	type aside struct{ dst, old string }
	var moved []aside
	undo := func() {
		for _, p := range placed {
			os.Remove(p)
		}
		for i := len(moved) - 1; i >= 0; i-- {
			os.Rename(moved[i].old, moved[i].dst)
		}
	}
	for i, f := range outputs {
		base := filepath.Base(f)
		dst := filepath.Join(dir, base)
		fi, err := os.Lstat(dst)
		switch {
		case err == nil && fi.IsDir():
			undo()
			return nil, nil, fmt.Errorf("%s is a directory: not replacing it with the %s built", dst, base)
		case err == nil:
			old := filepath.Join(staging, fmt.Sprintf(".replaced-%d-%s", i, base))
			if err := os.Rename(dst, old); err != nil {
				undo()
				return nil, nil, fmt.Errorf("moving the earlier %s aside: %w", dst, err)
			}
			moved = append(moved, aside{dst, old})
		case !errors.Is(err, fs.ErrNotExist):
			undo()
			return nil, nil, fmt.Errorf("output %s: %w", dst, err)
		}
		if err := os.Rename(f, dst); err != nil {
			undo()
			return nil, nil, fmt.Errorf("moving %s into %s: %w", base, dir, err)
		}
		placed = append(placed, dst)
	}
	for _, m := range moved {
		replaced = append(replaced, m.dst)
	}
	return placed, replaced, nil
}
