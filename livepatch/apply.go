// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// ApplyOptions tunes Apply. The zero value applies for real, forwards.
type ApplyOptions struct {
	// DryRun checks that everything applies and changes nothing.
	DryRun bool
	// Reverse undoes the patches (patch -R), last patch first.
	Reverse bool
	// Fuzz lets a hunk apply where up to Fuzz lines of its leading and
	// trailing context differ from the file, as GNU patch's --fuzz: each
	// hunk is first placed with full context at any offset, then ignoring
	// 1 line at each end, then 2, ... up to Fuzz (and never more than the
	// hunk's context). 0, the default, requires every context line. Where
	// a hunk landed is in the result (ApplyResult.Inexact); check fuzzed
	// hunks, since ignored context may put a change in the wrong place.
	Fuzz int
	// Logger receives one debug line per file and hunk offsets; nil: silent.
	Logger *slog.Logger

	rename func(oldpath, newpath string) error // tests: inject write failures
	step   func()                              // tests: called before each change to the tree
}

// ApplyResult says what Apply did (or, in a dry run, would do).
type ApplyResult struct {
	Files []FileResult `json:"files"`
	// Changed lists the tree paths written, created or removed, in order.
	Changed []string `json:"changed"`
}

// FileResult is the outcome for one file diff of one patch.
type FileResult struct {
	Source string       `json:"source"`
	Op     Op           `json:"op"`
	Path   string       `json:"path"` // path after the patch (old path for deletes)
	Hunks  []HunkResult `json:"hunks"`
}

// Apply applies patches in order to the tree at root. All files of all
// patches are staged in memory first; the tree changes only if everything
// applies, and a failure while writing restores every file touched. The
// write is journaled: if the process dies part way, the next Apply (or
// Recover) on root first makes the tree wholly old or wholly new again.
// Applies to one tree are serialised by a lock on root.
func Apply(ctx context.Context, root string, patches []*Patch, opts *ApplyOptions) (*ApplyResult, error) {
	if opts == nil {
		opts = &ApplyOptions{}
	}
	if opts.Fuzz < 0 {
		return nil, fmt.Errorf("apply: fuzz %d is negative", opts.Fuzz)
	}
	unlock, err := lockTree(ctx, root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if opts.DryRun {
		// A dry run changes nothing, so it cannot recover either.
		if exists(filepath.Join(root, journalName)) {
			return nil, fmt.Errorf("apply to %s: %w (run livepatch.Recover or a real Apply)", root, ErrInterrupted)
		}
	} else if err := recoverTree(&committer{root: root, rename: os.Rename}); err != nil {
		return nil, err
	}
	t, res, err := stage(ctx, root, patches, opts)
	if err != nil {
		return nil, err
	}
	res.Changed = t.changed()
	if opts.DryRun {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.rename != nil {
		t.rename = opts.rename
	}
	if err := commit(t, res.Changed, opts.step); err != nil {
		return nil, err
	}
	return res, nil
}

// stage applies the patches to an in-memory copy of the files they touch.
func stage(ctx context.Context, root string, patches []*Patch, opts *ApplyOptions) (*memTree, *ApplyResult, error) {
	if len(patches) == 0 {
		return nil, nil, ErrNoPatches
	}
	order := patches
	if opts.Reverse {
		order = make([]*Patch, len(patches))
		for i, p := range patches {
			order[len(patches)-1-i] = p.Reverse()
		}
	}
	t := newMemTree(root)
	res := &ApplyResult{}
	for _, p := range order {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		for _, f := range p.Files {
			hr, err := applyFile(t, p.Source, f, opts.Fuzz)
			if err != nil {
				return nil, nil, err
			}
			fr := FileResult{Source: p.Source, Op: f.Op, Path: f.Path(), Hunks: hr}
			res.Files = append(res.Files, fr)
			logFile(opts.Logger, fr)
		}
	}
	return t, res, nil
}

func logFile(l *slog.Logger, fr FileResult) {
	if l == nil {
		return
	}
	l.Debug("patching file", "patch", fr.Source, "op", fr.Op.String(), "path", fr.Path)
	for _, h := range fr.Hunks {
		if h.Offset != 0 || h.Fuzz != 0 {
			l.Info("hunk applied inexactly", "patch", fr.Source, "path", fr.Path, "hunk", h.Hunk, "line", h.At, "offset", h.Offset, "fuzz", h.Fuzz)
		}
	}
}

// applyFile applies one file diff to the staged tree.
func applyFile(t *memTree, source string, f *FileDiff, fuzz int) ([]HunkResult, error) {
	fail := func(path string, err error) error {
		return &FileError{Source: source, File: path, Op: f.Op, Err: err}
	}
	switch f.Op {
	case OpModify:
		m, err := t.get(f.OldPath)
		if err != nil {
			return nil, fail(f.OldPath, err)
		}
		if !m.exists {
			return nil, fail(f.OldPath, ErrFileMissing)
		}
		hr, err := applyHunks(source, f.OldPath, m, f.Hunks, fuzz)
		if err == nil && f.NewMode != 0 {
			m.mode = f.NewMode
		}
		return hr, err
	case OpCreate:
		m, err := t.get(f.NewPath)
		if err != nil {
			return nil, fail(f.NewPath, err)
		}
		if m.exists && len(m.lines) > 0 {
			return nil, fail(f.NewPath, ErrFileExists)
		}
		m.lines, m.noEOL = nil, false
		hr, err := applyHunks(source, f.NewPath, m, f.Hunks, fuzz)
		m.exists, m.mode = true, modeOr(f.NewMode, m.mode)
		return hr, err
	case OpDelete:
		m, err := t.get(f.OldPath)
		if err != nil {
			return nil, fail(f.OldPath, err)
		}
		if !m.exists {
			return nil, fail(f.OldPath, ErrFileMissing)
		}
		hr, err := applyHunks(source, f.OldPath, m, f.Hunks, fuzz)
		if err != nil {
			return nil, err
		}
		if len(m.lines) > 0 && !f.deleteAny {
			return nil, fail(f.OldPath, fmt.Errorf("%w: file still has %d lines after removing the patch's lines", ErrHunkFailed, len(m.lines)))
		}
		*m = memFile{}
		return hr, nil
	case OpRename, OpCopy:
		return moveFile(t, source, f, fuzz, fail)
	}
	return nil, fail(f.Path(), errors.New("unknown file operation"))
}

func moveFile(t *memTree, source string, f *FileDiff, fuzz int, fail func(string, error) error) ([]HunkResult, error) {
	src, err := t.get(f.OldPath)
	if err != nil {
		return nil, fail(f.OldPath, err)
	}
	if !src.exists {
		return nil, fail(f.OldPath, ErrFileMissing)
	}
	dst, err := t.get(f.NewPath)
	if err != nil {
		return nil, fail(f.NewPath, err)
	}
	if dst.exists && f.NewPath != f.OldPath {
		return nil, fail(f.NewPath, ErrFileExists)
	}
	moved := src.clone()
	hr, err := applyHunks(source, f.NewPath, moved, f.Hunks, fuzz)
	if err != nil {
		return nil, err
	}
	moved.mode = modeOr(f.NewMode, src.mode)
	if f.Op == OpRename {
		*src = memFile{}
	}
	*dst = *moved
	return hr, nil
}

func modeOr(m, def fs.FileMode) fs.FileMode {
	if m != 0 {
		return m
	}
	if def != 0 {
		return def
	}
	return 0o644
}
