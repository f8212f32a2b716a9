// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/klpkit/klpkit"
)

// Sentinels callers can branch on with errors.Is.
var (
	// ErrMalformedPatch: the patch text is not a valid unified diff.
	ErrMalformedPatch = errors.New("malformed patch")
	// ErrUnsafePath: a path in the patch escapes the tree (absolute or "..").
	ErrUnsafePath = errors.New("path escapes the tree")
	// ErrBinaryPatch: the patch carries a binary diff, which cannot be applied.
	ErrBinaryPatch = errors.New("binary patch")
	// ErrHunkFailed: a hunk's context was not found in the file.
	ErrHunkFailed = errors.New("hunk does not apply")
	// ErrFileExists: a file the patch creates already exists.
	ErrFileExists = errors.New("file to create already exists")
	// ErrFileMissing: a file the patch modifies, deletes or renames is missing.
	ErrFileMissing = errors.New("file to patch is missing")
	// ErrNoPatches: an operation got no patches at all.
	ErrNoPatches = errors.New("no patches given")
	// ErrNoChanges: the patches, taken together, change nothing. It is
	// klpkit.ErrNoChanges, as build's and build/objdiff's are.
	ErrNoChanges = klpkit.ErrNoChanges
	// ErrInvalidModule: module metadata breaks the kernel's or kbuild's rules.
	ErrInvalidModule = errors.New("invalid livepatch module metadata")
)

// ParseError says where in which patch file the text is malformed.
type ParseError struct {
	Source string `json:"source"` // patch file name
	Line   int    `json:"line"`   // 1-based line in the patch file; 0 if unknown
	Msg    string `json:"message"`
	Err    error  `json:"err"` // a sentinel (ErrMalformedPatch, ErrUnsafePath, ErrBinaryPatch) or a go-diff error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Source, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// HunkError says which hunk of which patch failed on which file, and what
// lines it expected there.
type HunkError struct {
	Source   string   `json:"source"` // patch file
	File     string   `json:"file"`   // tree path
	Hunk     int      `json:"hunk"`   // 1-based hunk number within the file diff
	Line     int      `json:"line"`   // line of the hunk header in the patch file
	At       int      `json:"at"`     // 1-based line in the file where the hunk was expected
	Expected []string `json:"expected"`
	Reason   string   `json:"reason"`
	// Fuzz is the most fuzz tried (ApplyOptions.Fuzz); MaxFuzz the most
	// the hunk allows (its context size).
	Fuzz    int `json:"fuzz"`
	MaxFuzz int `json:"max_fuzz"`
	// FitsFuzz, when not 0, is the least fuzz above Fuzz that would place
	// the hunk, and FitsAt the 1-based line it would then apply at.
	FitsFuzz int `json:"fits_fuzz"`
	FitsAt   int `json:"fits_at"`
}

func (e *HunkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: hunk #%d (patch line %d) does not apply at line %d", e.Source, e.File, e.Hunk, e.Line, e.At)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.MaxFuzz > 0 {
		fmt.Fprintf(&b, " (fuzz %d", e.Fuzz)
		if e.FitsFuzz > 0 {
			fmt.Fprintf(&b, "; with fuzz %d it would apply at line %d, ignoring %d context line(s) at each end: opt in with ApplyOptions.Fuzz as with patch -F %d, after checking the result", e.FitsFuzz, e.FitsAt, e.FitsFuzz, e.FitsFuzz)
		} else if e.Fuzz < e.MaxFuzz {
			fmt.Fprintf(&b, "; it does not apply with fuzz up to %d either", e.MaxFuzz)
		}
		b.WriteString(")")
	}
	if len(e.Expected) > 0 {
		b.WriteString("; expected:")
		for i, l := range e.Expected {
			if i == 8 {
				fmt.Fprintf(&b, "\n\t... (%d more lines)", len(e.Expected)-i)
				break
			}
			b.WriteString("\n\t" + strings.TrimSuffix(l, "\r"))
		}
	}
	return b.String()
}

func (e *HunkError) Unwrap() error { return ErrHunkFailed }

// FileError reports a file-level apply failure (missing or existing file).
type FileError struct {
	Source string `json:"source"`
	File   string `json:"file"`
	Op     Op     `json:"op"`
	Err    error  `json:"err"`
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: %s %s: %v", e.Source, e.Op, e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }
