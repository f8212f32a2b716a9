// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// includeSearchDirs are the tree's include directories in kbuild's order
// for x86 (LINUXINCLUDE), generated ones included.
var includeSearchDirs = []string{
	"arch/x86/include", "arch/x86/include/generated", "include",
	"arch/x86/include/uapi", "arch/x86/include/generated/uapi", "include/uapi", "include/generated/uapi",
}

// includeGraph is the #include graph of a tree's sources, read from the
// files themselves: which files include each file. Conditional includes
// count as includes (a unit that includes a header under an #if off in
// this configuration is compiled needlessly, and its diff is empty), and
// includes spelt with a macro are not followed.
type includeGraph struct {
	tree       string
	includedBy map[string][]string // tree-relative file -> files that include it
	read       map[string]bool
	exists     map[string]bool
}

func newIncludeGraph(tree string) *includeGraph {
	return &includeGraph{tree: tree, includedBy: map[string][]string{}, read: map[string]bool{}, exists: map[string]bool{}}
}

// add reads sources and, transitively, every file they include.
func (g *includeGraph) add(sources []string) {
	queue := append([]string(nil), sources...)
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if g.read[f] {
			continue
		}
		g.read[f] = true
		for _, inc := range g.includes(f) {
			g.includedBy[inc] = append(g.includedBy[inc], f)
			if !g.read[inc] {
				queue = append(queue, inc)
			}
		}
	}
}

// reaching returns the files that include header, directly or through
// other files (header itself excluded).
func (g *includeGraph) reaching(header string) map[string]bool {
	seen := map[string]bool{header: true}
	queue := []string{header}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, p := range g.includedBy[f] {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	delete(seen, header)
	return seen
}

// includes returns the tree-relative files f includes that exist.
func (g *includeGraph) includes(f string) []string {
	file, err := os.Open(filepath.Join(g.tree, filepath.FromSlash(f)))
	if err != nil {
		return nil
	}
	defer file.Close()
	var out []string
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "include")
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, "_next")
		rest = strings.TrimLeft(rest, " \t")
		if len(rest) < 2 {
			continue
		}
		var name string
		quoted := rest[0] == '"'
		switch rest[0] {
		case '"':
			name, _, ok = strings.Cut(rest[1:], `"`)
		case '<':
			name, _, ok = strings.Cut(rest[1:], ">")
		default:
			ok = false // a macro-spelt include
		}
		if !ok || name == "" {
			continue
		}
		if p, found := g.resolve(f, name, quoted); found {
			out = append(out, p)
		}
	}
	return out
}

// resolve finds an included name as the preprocessor would: a quoted name
// beside the including file first, then in the include directories.
func (g *includeGraph) resolve(from, name string, quoted bool) (string, bool) {
	var candidates []string
	if quoted {
		candidates = append(candidates, path.Join(path.Dir(from), name))
	}
	for _, d := range includeSearchDirs {
		candidates = append(candidates, path.Join(d, name))
	}
	for _, c := range candidates {
		if c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
			continue
		}
		ok, known := g.exists[c]
		if !known {
			fi, err := os.Stat(filepath.Join(g.tree, filepath.FromSlash(c)))
			ok = err == nil && fi.Mode().IsRegular()
			g.exists[c] = ok
		}
		if ok {
			return c, true
		}
	}
	return "", false
}
