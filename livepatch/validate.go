// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// ValidateOptions tunes Validate. The zero value checks the patches alone.
type ValidateOptions struct {
	// Tree is the pristine source tree. With it, every changed line is
	// judged in its full file; without it, from the hunk's context and the
	// function name diff -p prints after "@@".
	Tree string
	// Fuzz is the fuzz the patches are applied to Tree with, as
	// ApplyOptions.Fuzz; it must match the later Apply's.
	Fuzz int
}

// Validate checks patches against the rules a live patch must follow and
// returns findings in patch order (an empty, non-nil slice when there are
// none). The same change inside a .c function body is never flagged: only
// what cannot be (or is hard to) live patched.
// With a Tree, the patches must apply to it (they are applied in memory).
func Validate(ctx context.Context, patches []*Patch, opts *ValidateOptions) ([]Finding, error) {
	if opts == nil {
		opts = &ValidateOptions{}
	}
	if len(patches) == 0 {
		return nil, ErrNoPatches
	}
	if opts.Fuzz < 0 {
		return nil, fmt.Errorf("validate: fuzz %d is negative", opts.Fuzz)
	}
	// findings starts non-nil: no findings marshal as [], not null.
	v := &validator{seen: map[string]bool{}, findings: []Finding{}}
	var t *memTree
	if opts.Tree != "" {
		// A half-applied tree would be judged as if it were the source.
		if exists(filepath.Join(opts.Tree, journalName)) {
			return nil, fmt.Errorf("validate against %s: %w (run livepatch.Recover or a real Apply)", opts.Tree, ErrInterrupted)
		}
		t = newMemTree(opts.Tree)
	}
	for _, p := range patches {
		for _, f := range p.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fc := &fileCheck{v: v, patch: p.Source, f: f, path: f.Path()}
			if t != nil {
				if err := fc.stageWithTree(t, opts.Fuzz); err != nil {
					return nil, err
				}
			}
			fc.run()
		}
	}
	if !v.codeChanged {
		msg := "the patches change no compiled code (only comments, whitespace or non-source files), so there is nothing to live patch"
		if len(v.shifted) > 0 {
			msg = fmt.Sprintf("no changed functions: only line numbers moved (the patches add or remove only blank or comment lines in %s, "+
				"which moves the __LINE__ values that WARN, BUG and printk sites record but changes no code), so there is nothing to live patch",
				strings.Join(v.shifted, ", "))
		}
		v.add(Finding{Rule: RuleNoCodeChange, Severity: SeverityError, Patch: patches[0].Source, Message: msg})
	}
	return v.findings, nil
}

type validator struct {
	findings    []Finding
	seen        map[string]bool
	codeChanged bool
	// shifted lists the C files whose line count the patches change.
	shifted []string
}

func (v *validator) add(f Finding) {
	v.findings = append(v.findings, f)
}

// fileCheck validates one file diff.
type fileCheck struct {
	v     *validator
	patch string
	f     *FileDiff
	path  string

	// With a tree: the whole file before and after this file diff.
	before, after *memFile
	results       []HunkResult

	kpatchSyscall bool            // the new side defines a syscall with KPATCH_SYSCALL_DEFINEn
	oldFuncs      map[string]bool // functions defined before the patch
	newTypes      map[string]bool // struct/union/enum definitions the patch adds whole
}

func (c *fileCheck) stageWithTree(t *memTree, fuzz int) error {
	c.before, c.after = &memFile{}, &memFile{}
	if c.f.Op != OpCreate {
		m, err := t.get(c.f.OldPath)
		if err != nil {
			return &FileError{Source: c.patch, File: c.f.OldPath, Op: c.f.Op, Err: err}
		}
		c.before = m.clone()
	}
	hr, err := applyFile(t, c.patch, c.f, fuzz)
	if err != nil {
		return err
	}
	c.results = hr
	if c.f.Op != OpDelete {
		m, err := t.get(c.f.NewPath)
		if err != nil {
			return err
		}
		c.after = m.clone()
	}
	return nil
}

func (c *fileCheck) finding(rule string, sev Severity, line int, dedupe, msg string) {
	key := rule + "\x00" + c.path + "\x00" + dedupe
	if dedupe != "" && c.v.seen[key] {
		return
	}
	c.v.seen[key] = true
	c.v.add(Finding{Rule: rule, Severity: sev, Patch: c.patch, File: c.path, Line: line, Message: msg})
}

func (c *fileCheck) run() {
	if c.checkPath() {
		return
	}
	switch path.Ext(c.path) {
	case ".c", ".h":
		c.checkSource()
	}
}

// isHeader reports whether the file is a C header.
func (c *fileCheck) isHeader() bool { return strings.HasSuffix(c.path, ".h") }
