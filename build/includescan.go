// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// includeSearchDirs are the tree's include directories in kbuild's order
// (LINUXINCLUDE) for the architecture directory arch (SRCARCH: x86,
// arm64...), generated ones included. The order is the same for every
// architecture; only the arch/<arch> part changes.
func includeSearchDirs(arch string) []string {
	a := "arch/" + arch + "/include"
	return []string{a, a + "/generated", "include", a + "/uapi", a + "/generated/uapi", "include/uapi", "include/generated/uapi"}
}

// forcedIncludes are the files kbuild puts in front of every C unit
// (-include in LINUXINCLUDE and c_flags): every unit includes them and
// what they include.
var forcedIncludes = []string{"include/linux/compiler-version.h", "include/linux/kconfig.h", "include/linux/compiler_types.h"}

// srcArch names the architecture directory of a configuration.
func srcArch(c kconfig) (string, error) {
	for _, a := range []struct{ sym, dir string }{
		{"CONFIG_X86", "x86"}, {"CONFIG_ARM64", "arm64"}, {"CONFIG_ARM", "arm"}, {"CONFIG_PPC", "powerpc"},
		{"CONFIG_S390", "s390"}, {"CONFIG_RISCV", "riscv"}, {"CONFIG_LOONGARCH", "loongarch"},
	} {
		if c[a.sym] == "y" {
			return a.dir, nil
		}
	}
	return "", errors.New("the configuration names no architecture the include scan knows (CONFIG_X86, CONFIG_ARM64, CONFIG_ARM, CONFIG_PPC, CONFIG_S390, CONFIG_RISCV, CONFIG_LOONGARCH)")
}

// directive is one #include line.
type directive struct {
	line   int
	name   string // the header name, or a macro include's text
	quoted bool
	next   bool // #include_next
	macro  bool // #include MACRO: name is the macro text
}

// includeGraph is the #include graph of a tree's sources, read from the
// files themselves: which files include each file. Conditional includes
// count as includes (a unit that includes a header under an #if off in
// this configuration is compiled needlessly, and its diff is empty).
// What it cannot follow it records in incomplete and scoped, by file: a
// user set computed from it is complete only where no unit reaches those
// (gaps). A name no file of the tree (or the kbuild tree) has, with every
// include directory known, is recorded in outside and not a gap: the
// compiler took it from outside the tree (its own or system headers,
// which include none of the tree's), or the line is inactive (another
// architecture's or platform's header), or kbuild generates it during a
// full build (selinux's flask.h, *.asn1.h): the one case the scan cannot
// see into, left to the DWARF line tables, which name the headers such a
// file gave the unit declarations or code from.
type includeGraph struct {
	roots      []string // the tree, then where generated headers may be (the kbuild tree)
	search     []string // LINUXINCLUDE's directories
	includedBy map[string][]string
	edge       map[[2]string]bool
	parsed     map[string][]directive
	defines    map[string][]directive // object-like macro -> header names it is defined as
	exists     map[string]string      // tree-relative path -> root holding it ("" for none)
	// extra are the directories per-directory flags add (-I in ccflags-y,
	// subdir-ccflags-y, CFLAGS_<obj>.o; each unit's own directory, which
	// kbuild adds when building outside the source tree). They come after
	// LINUXINCLUDE, so they count only for names it does not resolve;
	// their union is searched for every unit (a superset of users).
	extra      map[string]bool
	forced     map[string][]string // directory -> files its Makefile's -include adds
	unknownDir []unknownFlag       // per-directory flags the scan cannot expand
	makefiles  map[string]bool     // directories whose Makefile is read
	byBase     map[string][]string // base name -> files, built on first need
	incomplete map[string][]string // file -> why some of its includes are not followed
	// scoped: file -> #include lines that name a file of the tree in no
	// known include directory: they count only for the units an
	// unexpanded per-directory flag may reach.
	scoped  map[string][]string
	outside []string // #include lines naming no file of the tree
	err     error
}

func newIncludeGraph(arch string, roots ...string) *includeGraph {
	return &includeGraph{roots: roots, search: includeSearchDirs(arch),
		includedBy: map[string][]string{}, edge: map[[2]string]bool{}, parsed: map[string][]directive{},
		defines: map[string][]directive{}, exists: map[string]string{}, extra: map[string]bool{},
		forced: map[string][]string{}, makefiles: map[string]bool{}, incomplete: map[string][]string{}, scoped: map[string][]string{}}
}

// add reads sources and, transitively, every file they include. The error
// is a file that exists and cannot be read.
func (g *includeGraph) add(sources []string) error {
	// The arch Makefile's flags reach every unit.
	arch := path.Dir(g.search[0])
	g.makefiles[arch] = true
	g.flagsFile(path.Join(arch, "Makefile"), arch)
	g.flagsFile(path.Join(arch, "Kbuild"), arch)
	for _, s := range sources {
		g.dirFlags(path.Dir(s))
	}
	type pend struct {
		from string
		d    directive
	}
	var queue []string
	var pending []pend
	link := func(from, to string) {
		if !g.edge[[2]string{from, to}] {
			g.edge[[2]string{from, to}] = true
			g.includedBy[to] = append(g.includedBy[to], from)
			queue = append(queue, to)
		}
	}
	for _, s := range sources {
		queue = append(queue, s)
		for _, f := range forcedIncludes {
			if g.root(f) != "" {
				link(s, f)
			}
		}
		for d := path.Dir(s); ; d = path.Dir(d) {
			for _, f := range g.forced[d] {
				link(s, f)
			}
			if d == "." || d == "/" {
				break
			}
		}
	}
	if g.root("include/generated/autoconf.h") != "" {
		g.parse("include/generated/autoconf.h") // CONFIG_ strings an #include may name
	}
	for {
		for len(queue) > 0 {
			f := queue[0]
			queue = queue[1:]
			if _, done := g.parsed[f]; done {
				continue
			}
			for _, d := range g.parse(f) {
				if d.macro {
					pending = append(pending, pend{f, d})
					continue
				}
				for _, t := range g.resolve(f, d) {
					link(f, t)
				}
			}
		}
		// Macro includes once every definition read so far is known;
		// the files they add may define more.
		var still []pend
		for _, p := range pending {
			targets, ok, why := g.expand(p.from, p.d)
			switch {
			case ok:
				for _, t := range targets {
					link(p.from, t)
				}
			case why != "":
				still = append(still, p)
			}
		}
		if len(queue) == 0 {
			for _, p := range still {
				_, _, why := g.expand(p.from, p.d)
				g.note(p.from, p.d, why)
			}
			return g.err
		}
		pending = still
	}
}

// expand resolves a macro include from the definitions read: ok with its
// targets, or why it cannot ("" when it needs no edge).
func (g *includeGraph) expand(from string, d directive) (targets []string, ok bool, why string) {
	text := d.name
	if strings.HasPrefix(text, "TRACE_INCLUDE(") && strings.HasPrefix(from, "include/trace/") {
		// The trace event machinery includes again the event header that
		// included it (define_trace.h at the end of the header): every
		// unit that reaches this line has reached that header already.
		return nil, false, ""
	}
	if !isIdent(text) {
		return nil, false, "a function-like macro include the scan does not expand"
	}
	defs := g.defines[text]
	if len(defs) == 0 {
		if strings.HasPrefix(text, "CONFIG_") {
			// Not set in the configuration (autoconf.h): a unit that
			// compiled never had this line active.
			return nil, false, ""
		}
		return nil, false, "macro " + text + " is defined in no file the scan read (a -D on the command line?)"
	}
	for _, def := range defs {
		def.line = d.line
		ts := g.resolve(from, def)
		if len(ts) == 0 {
			return nil, false, fmt.Sprintf("macro %s names %s, which is not in the tree", text, def.name)
		}
		targets = append(targets, ts...)
	}
	return targets, true, ""
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (g *includeGraph) note(file string, d directive, why string) {
	if why == "" {
		return
	}
	kw := "#include"
	if d.next {
		kw = "#include_next"
	}
	g.incomplete[file] = append(g.incomplete[file], fmt.Sprintf("%s:%d: %s %s: %s", file, d.line, kw, d.name, why))
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

// gaps returns, for a header whose users are users, why the set may miss
// some: the #include lines the scan could not follow in files that units
// outside users reach (units already users lose nothing). isUnit tells
// a translation unit's source.
func (g *includeGraph) gaps(users map[string]bool, isUnit func(string) bool) []string {
	var out []string
	check := func(notes map[string][]string, counts func(unit string) bool) {
		for file, why := range notes {
			reach := g.reaching(file)
			reach[file] = true
			for f := range reach {
				if isUnit(f) && !users[f] && counts(f) {
					out = append(out, fmt.Sprintf("%s (reached from %s)", strings.Join(why, "; "), f))
					break
				}
			}
		}
	}
	check(g.incomplete, func(string) bool { return true })
	check(g.scoped, g.unknownScope)
	slices.Sort(out)
	return out
}

// unknownScope reports a unit an unexpanded per-directory flag may reach:
// one under the directory of the Makefile that has it, or one in a
// directory whose Makefiles the scan does not read that this Makefile
// names (kbuild compiles it from elsewhere, as kernel/bpf/Makefile does
// tools/lib/bpf/relo_core.c).
func (g *includeGraph) unknownScope(unit string) bool {
	dir := path.Dir(unit)
	stem := strings.TrimSuffix(path.Base(unit), ".c")
	for _, u := range g.unknownDir {
		if dir == u.dir || strings.HasPrefix(dir, u.dir+"/") || !kbuildDir(dir) && strings.Contains(u.makefile, stem) {
			return true
		}
	}
	return false
}

// parse reads f's #include lines and the object-like macros it defines
// as header names.
func (g *includeGraph) parse(f string) []directive {
	if ds, ok := g.parsed[f]; ok {
		return ds
	}
	g.parsed[f] = nil
	root := g.root(f)
	if root == "" {
		return nil
	}
	file, err := os.Open(filepath.Join(root, filepath.FromSlash(f)))
	if err != nil {
		g.fail(fmt.Errorf("reading %s for its #include lines: %w", f, err))
		return nil
	}
	defer file.Close()
	var out []directive
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		if def, ok := strings.CutPrefix(rest, "define"); ok {
			g.define(def, n)
			continue
		}
		rest, ok = strings.CutPrefix(rest, "include")
		if !ok {
			continue
		}
		d := directive{line: n}
		rest, d.next = strings.CutPrefix(rest, "_next")
		if rest == "" || rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"' && rest[0] != '<' {
			continue // #includes, #include_nextfoo: not a directive
		}
		if name, quoted, ok := headerName(strings.TrimLeft(rest, " \t")); ok {
			d.name, d.quoted = name, quoted
		} else {
			d.name, d.macro = strings.TrimSpace(stripComment(rest)), true
		}
		if d.name != "" {
			out = append(out, d)
		}
	}
	if err := sc.Err(); err != nil {
		g.fail(fmt.Errorf("reading %s for its #include lines: %w", f, err))
	}
	g.parsed[f] = out
	return out
}

// define records `#define NAME <x>` and `#define NAME "x"`.
func (g *includeGraph) define(rest string, line int) {
	if rest == "" || rest[0] != ' ' && rest[0] != '\t' {
		return
	}
	name, value, _ := strings.Cut(strings.TrimLeft(rest, " \t"), " ")
	if !isIdent(name) {
		return // function-like, or not a name
	}
	if h, quoted, ok := headerName(strings.TrimSpace(value)); ok {
		g.defines[name] = append(g.defines[name], directive{line: line, name: h, quoted: quoted})
	}
}

// headerName parses "x" or <x> at the start of s.
func headerName(s string) (name string, quoted, ok bool) {
	if len(s) < 2 {
		return "", false, false
	}
	switch s[0] {
	case '"':
		name, _, ok = strings.Cut(s[1:], `"`)
		quoted = true
	case '<':
		name, _, ok = strings.Cut(s[1:], ">")
	}
	return name, quoted, ok && name != ""
}

func stripComment(s string) string {
	if i := strings.Index(s, "/*"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i]
	}
	return s
}

func (g *includeGraph) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// root returns the root holding the tree-relative file p, "" for none.
func (g *includeGraph) root(p string) string {
	if r, ok := g.exists[p]; ok {
		return r
	}
	r := ""
	if p != ".." && !strings.HasPrefix(p, "../") && !path.IsAbs(p) {
		for _, root := range g.roots {
			if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil && fi.Mode().IsRegular() {
				r = root
				break
			}
		}
	}
	g.exists[p] = r
	return r
}

// resolve finds an included name as the preprocessor would: a quoted name
// beside the including file first, then LINUXINCLUDE's directories (after
// the one from holds for #include_next), then the per-directory ones,
// where every match counts (they differ per unit). A name found nowhere
// is recorded: in scoped when a file of the tree has it and a
// per-directory flag the scan cannot expand might lead there, else in
// outside (see below).
func (g *includeGraph) resolve(from string, d directive) []string {
	search := g.search
	if d.next {
		search = g.after(from)
	}
	if d.quoted && !d.next {
		if c := path.Join(path.Dir(from), d.name); g.root(c) != "" {
			return []string{c}
		}
	}
	for _, dir := range search {
		if c := path.Join(dir, d.name); g.root(c) != "" {
			return []string{c}
		}
	}
	var found []string
	for _, c := range g.withBase(d.name) {
		if dir, ok := strings.CutSuffix(c, "/"+path.Clean(d.name)); ok && g.extra[dir] && c != from {
			found = append(found, c)
		}
	}
	if len(found) > 0 {
		return found
	}
	var elsewhere []string
	for _, c := range g.withBase(d.name) {
		if strings.HasSuffix("/"+c, "/"+path.Clean(d.name)) && g.ownArch(c) {
			elsewhere = append(elsewhere, c)
		}
	}
	if len(elsewhere) == 0 {
		// No file of the tree has this name: a system or compiler header
		// (which includes none of the tree's), or a line this
		// configuration leaves out (another architecture's or
		// platform's header), or a file kbuild generates in the object
		// tree during the build.
		g.outside = append(g.outside, fmt.Sprintf("%s:%d: %s", from, d.line, d.name))
		return nil
	}
	if len(g.unknownDir) == 0 {
		// Every include directory of every unit is known, and none holds
		// it: the compiler did not take it from the tree either.
		g.outside = append(g.outside, fmt.Sprintf("%s:%d: %s", from, d.line, d.name))
		return nil
	}
	var flags []string
	for _, u := range g.unknownDir {
		flags = append(flags, u.text)
	}
	g.scoped[from] = append(g.scoped[from], fmt.Sprintf("%s:%d: #include %s: in the tree as %s, in no include directory the scan knows, and per-directory flags it cannot expand may name one (%s)",
		from, d.line, d.name, strings.Join(elsewhere, ", "), strings.Join(flags, "; ")))
	return nil
}

// ownArch reports a tree file outside every other architecture's
// directory: no unit of this one has another's on its include path.
func (g *includeGraph) ownArch(p string) bool {
	rest, ok := strings.CutPrefix(p, "arch/")
	return !ok || strings.HasPrefix(rest, path.Base(path.Dir(g.search[0]))+"/")
}

// after returns the search directories after the one from was found in
// (#include_next); all of them when from is in none.
func (g *includeGraph) after(from string) []string {
	best := -1
	for i, dir := range g.search {
		if strings.HasPrefix(from, dir+"/") && (best < 0 || len(dir) > len(g.search[best])) {
			best = i
		}
	}
	return g.search[best+1:]
}

// withBase lists the files (in every root) whose base name is name's.
func (g *includeGraph) withBase(name string) []string {
	if g.byBase == nil {
		g.byBase = map[string][]string{}
		for _, root := range g.roots {
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // unreadable parts are reported by the names left unresolved
				if err != nil {
					return nil
				}
				if d.IsDir() {
					if strings.HasPrefix(d.Name(), ".") && p != root {
						return filepath.SkipDir
					}
					return nil
				}
				rel, err := filepath.Rel(root, p)
				if err == nil {
					rel = filepath.ToSlash(rel)
					if !slices.Contains(g.byBase[d.Name()], rel) {
						g.byBase[d.Name()] = append(g.byBase[d.Name()], rel)
					}
				}
				return nil
			})
		}
	}
	return g.byBase[path.Base(name)]
}
