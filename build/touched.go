// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// touchedObjects returns the objects the changed files need recompiled: a
// changed C file's own object, and for a changed header every object whose
// kbuild command file lists it as a dependency. It refuses assembly files,
// and a header change in a tree that is not fully built unless partial,
// and a header with more users than maxUsers (none when negative).
func touchedObjects(tree string, changed []string, partial bool, maxUsers int) ([]string, []string, error) {
	var objs, warnings, headers []string
	seen := map[string]bool{}
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			objs = append(objs, o)
		}
	}
	for _, rel := range changed {
		switch ext := path.Ext(rel); {
		case ext == ".c":
			add(strings.TrimSuffix(rel, ".c") + ".o")
		case isHeader(rel):
			headers = append(headers, rel)
		case ext == ".S" || ext == ".s":
			return nil, nil, fmt.Errorf("%s: assembly files cannot be livepatched (their code has no patchable function entries): %w", rel, ErrUnsupportedPatch)
		case strings.HasPrefix(path.Base(rel), "Kconfig") || path.Base(rel) == "Makefile" || path.Base(rel) == "Kbuild":
			return nil, nil, fmt.Errorf("%s: build configuration changes cannot be livepatched: %w", rel, ErrUnsupportedPatch)
		default:
			warnings = append(warnings, fmt.Sprintf("%s: not a C source or header, ignored", rel))
		}
	}
	if len(headers) > 0 {
		users, err := headerUsers(tree, headers)
		if err != nil {
			return nil, nil, err
		}
		if !fullyBuilt(tree) {
			if !partial {
				return nil, nil, fmt.Errorf("header(s) %s changed, and %s is not fully built (no .vmlinux.cmd), so the objects that include them cannot all be found: build the kernel once there (make vmlinux modules), or accept patching only the objects already built (Options.PartialHeaderUsers, kpatch-build --partial-header-users): %w",
					strings.Join(headers, ", "), tree, ErrTreeNotBuilt)
			}
			warnings = append(warnings, fmt.Sprintf("header(s) %s changed: only objects already built in %s were checked for users; objects never built there are not patched (build the tree once with make for a complete set)", strings.Join(headers, ", "), tree))
		}
		for _, h := range headers {
			if len(users[h]) == 0 {
				return nil, nil, fmt.Errorf("header %s: no built object of the tree includes it (kbuild command files list none); build the objects that use it once with make: %w", h, ErrUnsupportedPatch)
			}
			if err := checkHeaderUsers(h, len(users[h]), maxUsers); err != nil {
				return nil, nil, err
			}
			for _, o := range users[h] {
				add(o)
			}
		}
	}
	return objs, warnings, nil
}

// isHeader reports a C header: the one test of what a header is, for
// the kbuild records, the debug information and the full-build decision.
func isHeader(rel string) bool { return path.Ext(rel) == ".h" }

// changesHeader reports a changed header among the changed files.
func changesHeader(changed []string) bool { return slices.ContainsFunc(changed, isHeader) }

// headerUsers maps each header to the objects whose .cmd files list it.
// A record that cannot be read, or that names a header and cannot be
// parsed, is an error: skipping it would drop its object from the users
// without a word. Dependencies spelt absolute (a tree built with O=
// names its sources so) count by their tree-relative names.
func headerUsers(tree string, headers []string) (map[string][]string, error) {
	want := map[string]bool{}
	for _, h := range headers {
		want[h] = true
	}
	roots := treeRoots(tree)
	if fi, err := os.Stat(filepath.Join(tree, "source")); err == nil && fi.IsDir() {
		roots = append(roots, treeRoots(filepath.Join(tree, "source"))...) // an O= build's link to its sources
	}
	users := map[string][]string{}
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading kbuild's records under %s: %w", tree, err)
		}
		name := d.Name()
		if d.IsDir() {
			if p != tree && (strings.HasPrefix(name, ".") || name == "Documentation" || name == "tools" || name == "scripts") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".o.cmd") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading kbuild's records: %w", err)
		}
		if !mentionsAny(data, headers) {
			return nil // most records of a built tree name none of them
		}
		rel, _ := filepath.Rel(tree, filepath.Join(filepath.Dir(p), strings.TrimSuffix(name[1:], ".cmd")))
		obj := filepath.ToSlash(rel)
		c, err := parseCmdFile(data, obj)
		if err != nil {
			return fmt.Errorf("%s names a changed header: %w", p, err)
		}
		if !strings.HasSuffix(c.Source, ".c") || strings.HasSuffix(c.Source, ".mod.c") {
			return nil // assembly, and modules' generated .mod.c
		}
		for _, dep := range c.Deps {
			if rel, ok := treeRelative(roots, dep); ok && want[rel] {
				users[rel] = append(users[rel], obj)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, objs := range users {
		slices.Sort(objs)
	}
	return users, nil
}

// fullyBuilt reports a tree kbuild has linked vmlinux in, where every
// object's command file exists.
func fullyBuilt(tree string) bool {
	_, err := os.Stat(filepath.Join(tree, ".vmlinux.cmd"))
	return err == nil
}

func mentionsAny(data []byte, names []string) bool {
	for _, n := range names {
		if bytes.Contains(data, []byte(n)) {
			return true
		}
	}
	return false
}
