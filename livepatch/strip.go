// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// StripLevel is patch's -p option. The zero value, StripDetect, detects it.
type StripLevel int

// StripDetect asks Parse to detect the strip level.
const StripDetect StripLevel = 0

// StripP returns the StripLevel for "patch -p n".
func StripP(n int) StripLevel { return StripLevel(n + 1) }

// kernelTopLevel lists the top-level entries of a kernel tree: a name that
// starts with one of them is already tree-relative (-p0).
var kernelTopLevel = map[string]bool{
	"arch": true, "block": true, "certs": true, "crypto": true, "drivers": true, "fs": true,
	"include": true, "init": true, "io_uring": true, "ipc": true, "kernel": true, "lib": true,
	"mm": true, "net": true, "rust": true, "samples": true, "scripts": true, "security": true,
	"sound": true, "tools": true, "usr": true, "virt": true, "Documentation": true, "LICENSES": true,
	"Makefile": true, "Kconfig": true, "Kbuild": true, "MAINTAINERS": true,
}

// resolvePaths picks the strip level and sets OldPath/NewPath, refusing
// paths that escape the tree.
func resolvePaths(p *Patch, opts *ParseOptions) error {
	level := int(opts.Strip) - 1
	if opts.Strip == StripDetect {
		level = detectStrip(p, opts.Tree)
	}
	if level < 0 {
		return &ParseError{Source: p.Source, Msg: fmt.Sprintf("invalid strip level %d", level)}
	}
	p.Strip = level
	for _, f := range p.Files {
		var err error
		if f.Op != OpCreate {
			if f.OldPath, err = stripPath(f.OldName, level); err != nil {
				return &ParseError{Source: p.Source, Line: f.Line, Msg: err.Error(), Err: ErrUnsafePath}
			}
		}
		if f.Op != OpDelete {
			if f.NewPath, err = stripPath(f.NewName, level); err != nil {
				return &ParseError{Source: p.Source, Line: f.Line, Msg: err.Error(), Err: ErrUnsafePath}
			}
		}
		if f.Op == OpModify && f.OldPath != f.NewPath {
			// diff -Nupr and quilt name two trees; the new name is the
			// file, unless it is missing from a given tree.
			f.OldPath = f.NewPath
		}
	}
	return nil
}

// stripPath removes level leading components and checks the rest stays in
// the tree.
func stripPath(name string, level int) (string, error) {
	if name == "" || name == "/dev/null" {
		return "", fmt.Errorf("missing file name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", fmt.Errorf("absolute path %q refused", name)
	}
	parts := strings.Split(name, "/")
	clean := parts[:0]
	for _, c := range parts {
		if c != "" && c != "." {
			clean = append(clean, c)
		}
	}
	if len(clean) <= level {
		return "", fmt.Errorf("path %q has no more than %d components to strip (-p%d)", name, level, level)
	}
	rel := path.Join(clean[level:]...)
	for _, c := range clean[level:] {
		if c == ".." {
			return "", fmt.Errorf("path %q contains '..' and is refused", name)
		}
	}
	if !filepath.IsLocal(rel) || strings.ContainsRune(rel, '\\') {
		return "", fmt.Errorf("path %q escapes the tree", name)
	}
	return rel, nil
}

// detectStrip chooses -p0 or -p1 (or deeper when a tree proves it).
func detectStrip(p *Patch, tree string) int {
	if tree != "" {
		for level := 0; level <= 3; level++ {
			if allExist(p, tree, level) {
				return level
			}
		}
	}
	if len(p.Files) == 0 {
		return 1
	}
	// The first file decides, as in patch(1).
	f := p.Files[0]
	name := f.OldName
	if f.Op == OpCreate {
		name = f.NewName
	}
	first, _, nested := strings.Cut(name, "/")
	newFirst, _, _ := strings.Cut(f.NewName, "/")
	switch {
	case !nested:
		return 0
	case f.Op == OpModify && first != newFirst, first == "a", first == "b":
		return 1
	case kernelTopLevel[first]:
		return 0
	}
	return 1
}

// allExist reports whether every file the patch reads exists at level.
func allExist(p *Patch, tree string, level int) bool {
	checked := 0
	for _, f := range p.Files {
		if f.Op == OpCreate {
			continue
		}
		rel, err := stripPath(f.NewName, level)
		if f.Op != OpModify || err != nil {
			rel, err = stripPath(f.OldName, level)
		}
		if err != nil {
			return false
		}
		if _, err := os.Stat(filepath.Join(tree, filepath.FromSlash(rel))); err != nil {
			return false
		}
		checked++
	}
	return checked > 0
}
