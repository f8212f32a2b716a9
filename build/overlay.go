// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/livepatch"
)

// overlay is the copy-on-write view of the patched tree: the files the
// patches change, patched, under dir at their tree paths. The tree itself
// is never written, so an interrupted build leaves it pristine.
type overlay struct {
	tree, dir string
	// files are the tree paths present in the overlay after patching.
	files map[string]bool
	// changed lists the tree paths the patches change, in patch order.
	changed []string
	// inexact are the hunks that applied with an offset or fuzz.
	inexact []livepatch.Placement
}

func makeOverlay(ctx context.Context, tree, dir string, patches []*livepatch.Patch, fuzz int) (*overlay, error) {
	ov := &overlay{tree: tree, dir: dir, files: map[string]bool{}}
	for _, p := range patches {
		for _, fd := range p.Files {
			for _, rel := range []string{fd.OldPath, fd.NewPath} {
				if rel == "" {
					continue
				}
				if err := ov.copyIn(rel); err != nil {
					return nil, err
				}
			}
		}
	}
	res, err := livepatch.Apply(ctx, dir, patches, &livepatch.ApplyOptions{Fuzz: fuzz})
	if err != nil {
		return nil, withFuzzHint(fmt.Errorf("applying patches: %w", err))
	}
	ov.inexact = res.Inexact()
	seen := map[string]bool{}
	for _, rel := range res.Changed {
		if !seen[rel] {
			seen[rel] = true
			ov.changed = append(ov.changed, rel)
		}
	}
	for rel := range ov.filesOnDisk() {
		ov.files[rel] = true
	}
	return ov, nil
}

// copyIn copies tree/rel into the overlay if the tree has it.
func (ov *overlay) copyIn(rel string) error {
	dst := filepath.Join(ov.dir, rel)
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(ov.tree, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	return nil
}

func (ov *overlay) filesOnDisk() map[string]bool {
	out := map[string]bool{}
	filepath.WalkDir(ov.dir, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // best effort listing
		if err == nil && d.Type().IsRegular() {
			if rel, err := filepath.Rel(ov.dir, p); err == nil {
				out[filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	return out
}

// has reports whether the overlay holds tree path rel.
func (ov *overlay) has(rel string) bool { return ov.files[rel] }

// path returns the overlay's copy of tree path rel.
func (ov *overlay) path(rel string) string { return filepath.Join(ov.dir, rel) }

// withFuzzHint tells how to opt in to fuzz when more of it would place a
// hunk that did not apply: the build's option and the CLIs' flag.
func withFuzzHint(err error) error {
	var he *livepatch.HunkError
	if !errors.As(err, &he) || he.FitsFuzz == 0 {
		return err
	}
	return fmt.Errorf("%w"+"\n\tto accept it, build with fuzz %d (build.Options.Fuzz, --fuzz %d in kpatch-build and auto_livepatch) and check where the hunk lands", err, he.FitsFuzz, he.FitsFuzz)
}
