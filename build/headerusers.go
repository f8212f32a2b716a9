// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/dwarfline"
)

// DefaultMaxHeaderUsers is how many translation units a changed header may
// have before Run refuses it (Options.MaxHeaderUsers). Every user is
// compiled twice and diffed, and every function of it the change reaches
// is replaced: at 100 units that is minutes of compiling on a small
// machine and a module that swaps out code across much of the kernel,
// which is rarely what a livepatch should be.
const DefaultMaxHeaderUsers = 100

// HeaderUsersError refuses a header change that reaches too many units.
// It matches ErrUnsupportedPatch.
type HeaderUsersError struct {
	Header string // tree-relative, e.g. include/linux/sched.h
	Users  int    // translation units that include it
	Max    int    // the limit in force
}

func (e *HeaderUsersError) Error() string {
	return fmt.Sprintf("header %s is included by %d translation units, more than the %d a livepatch build takes (Options.MaxHeaderUsers): "+
		"every one would be compiled twice and patched. Keep the change out of the header: patch the functions that need it in their .c files "+
		"(an inline that changes can become an out-of-line function in one .c file), or raise the limit if the change really must reach them all",
		e.Header, e.Users, e.Max)
}

func (e *HeaderUsersError) Unwrap() error { return ErrUnsupportedPatch }

func (o *Options) maxHeaderUsers() int {
	if o.MaxHeaderUsers == 0 {
		return DefaultMaxHeaderUsers
	}
	return o.MaxHeaderUsers
}

// checkHeaderUsers refuses a header with more users than max (no limit
// when max < 0).
func checkHeaderUsers(header string, users, max int) error {
	if max >= 0 && users > max {
		return &HeaderUsersError{Header: header, Users: users, Max: max}
	}
	return nil
}

// debugHeaderUsers finds, for each header, the objects of the tree whose
// translation units include it, without a build: the kernel's debug files
// (vmlinux, and module .ko or .ko.debug files) list every unit compiled in
// this configuration, and each unit's DWARF line table names the headers
// that gave it code or a declaration it describes; the #include lines of
// the tree's files, followed from each unit's source, add the units that
// include a header without such a trace (one that takes only a macro or
// a prototype from it). Objects are tree-relative (fs/proc/base.o); only
// units whose .c is in the tree count. The build lab test compares the
// result with kbuild's dependency records.
//
// kbuildDir is where generated headers may be besides the tree (a
// distribution's headers tree; "" for none) and arch the architecture
// directory. gaps names, per header, the #include lines the scan could
// not follow in files that units not counted as users reach: its users
// may be more than users says.
func debugHeaderUsers(tree, kbuildDir, arch string, debugFiles []string, headers []string) (users map[string][]string, gaps map[string][]string, err error) {
	want := map[string]bool{}
	for _, h := range headers {
		want[path.Clean(h)] = true
	}
	var roots []string
	users = map[string][]string{}
	seen := map[string]bool{}
	add := func(h, obj string) {
		if !seen[h+"\x00"+obj] {
			seen[h+"\x00"+obj] = true
			users[h] = append(users[h], obj)
		}
	}
	var sources []string
	inTree := map[string]bool{}
	for i, name := range debugFiles {
		units, err := readUnits(name)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			roots = debugRoots(units)
		}
		for _, u := range units {
			src, ok := treeRelative(roots, u.Name)
			if !ok || path.Ext(src) != ".c" || strings.HasSuffix(src, ".mod.c") {
				continue // assembly, generated and out-of-tree units
			}
			if _, known := inTree[src]; !known {
				_, err := os.Stat(filepath.Join(tree, filepath.FromSlash(src)))
				inTree[src] = err == nil
				if err == nil {
					sources = append(sources, src)
				}
			}
			if !inTree[src] {
				continue
			}
			obj := strings.TrimSuffix(src, ".c") + ".o"
			for _, f := range u.Files {
				if rel, ok := treeRelative(roots, f); ok && want[rel] {
					add(rel, obj)
				}
			}
		}
	}
	scanRoots := []string{tree}
	if kbuildDir != "" && kbuildDir != tree {
		scanRoots = append(scanRoots, kbuildDir)
	}
	g := newIncludeGraph(arch, scanRoots...)
	if err := g.add(sources); err != nil {
		return nil, nil, err
	}
	isUnit := func(f string) bool { return inTree[f] && path.Ext(f) == ".c" }
	gaps = map[string][]string{}
	for h := range want {
		srcs := map[string]bool{}
		for f := range g.reaching(h) {
			if isUnit(f) {
				add(h, strings.TrimSuffix(f, ".c")+".o")
			}
		}
		for _, o := range users[h] {
			srcs[strings.TrimSuffix(o, ".o")+".c"] = true
		}
		if gs := g.gaps(srcs, isUnit); len(gs) > 0 {
			gaps[h] = gs
		}
	}
	for _, objs := range users {
		slices.Sort(objs)
	}
	return users, gaps, nil
}

func readUnits(name string) ([]dwarfline.Unit, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("debug information: %w", err)
	}
	defer f.Close()
	units, err := dwarfline.Units(f)
	if err != nil {
		return nil, fmt.Errorf("debug information of %s: %w", name, err)
	}
	return units, nil
}

// debugRoots are the directories the kernel was built from, as the debug
// information spells them: the source tree (the prefix of init/main.c,
// which every kernel compiles) and the compilation directory (the object
// tree, where generated headers are).
func debugRoots(units []dwarfline.Unit) []string {
	var roots []string
	add := func(r string) {
		if r != "" && !slices.Contains(roots, r) {
			roots = append(roots, r)
		}
	}
	for _, u := range units {
		if r, ok := strings.CutSuffix(u.Name, "/init/main.c"); ok {
			add(r)
		}
	}
	for _, u := range units {
		add(path.Clean(u.CompDir))
	}
	return roots
}

// hasLineTable reports an ELF file with a DWARF line table.
func hasLineTable(name string) bool {
	f, err := elf.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".debug_line") != nil && f.Section(".debug_info") != nil
}

// hasModules reports a configuration that builds modules.
func (c kconfig) hasModules() bool {
	if c["CONFIG_MODULES"] != "y" {
		return false
	}
	for _, v := range c {
		if v == "m" {
			return true
		}
	}
	return false
}

// headersFromDebugInfo finds the users of the changed headers from the
// target's debug information when the tree is not fully built, so that no
// full build is needed. It returns the changed files left for the kbuild
// records (changed without the headers it resolved) and the objects that
// use the headers. When the debug information cannot tell (no vmlinux
// with line tables, or a kernel with modules whose debug information does
// not cover them all) it returns changed as it is, and the kbuild records
// decide as before; see debugGap.
func (r *runner) headersFromDebugInfo(ctx context.Context, changed []string) (rest, objs []string, err error) {
	if !changesHeader(changed) || fullyBuilt(r.tree.Dir) || r.tree.Vmlinux == "" || !hasLineTable(r.tree.Vmlinux) {
		return changed, nil, nil
	}
	files := []string{r.tree.Vmlinux}
	if r.config.hasModules() {
		mods, gap, err := r.moduleDebugInfo(ctx)
		if err != nil {
			return nil, nil, err
		}
		if gap != "" {
			return r.debugGap(changed, gap)
		}
		files = append(files, mods...)
	}
	arch, err := srcArch(r.config)
	if err != nil {
		return r.debugGap(changed, err.Error())
	}
	rest, headers := splitHeaders(changed)
	r.event(StagePatch, 0, 1, "finding the users of %s in the debug information of %d file(s)", strings.Join(headers, ", "), len(files))
	users, gaps, err := debugHeaderUsers(r.tree.Dir, r.tree.KbuildDir, arch, files, headers)
	if err != nil {
		return nil, nil, err
	}
	for _, h := range headers {
		if gs := gaps[h]; len(gs) > 0 {
			return r.debugGap(changed, fmt.Sprintf("the #include lines that may lead to %s cannot all be followed: %s", h, strings.Join(gs, "; ")))
		}
	}
	max := r.opts.maxHeaderUsers()
	for _, h := range headers {
		if len(users[h]) == 0 {
			return nil, nil, fmt.Errorf("header %s: no translation unit of the kernel includes it (per its debug information and the tree's #include lines): %w", h, ErrUnsupportedPatch)
		}
		if err := checkHeaderUsers(h, len(users[h]), max); err != nil {
			return nil, nil, err
		}
		objs = append(objs, users[h]...)
	}
	return rest, objs, nil
}

// debugGap handles a kernel whose debug information cannot name every
// user of a changed header (modules without line tables, #include lines
// the scan cannot follow): the users found from it could miss some
// without a word. A source that builds in full finds them all
// from kbuild's records; Options.PartialHeaderUsers asks for the objects
// already built, with a warning; otherwise the build is refused, saying
// what is missing and what to give.
func (r *runner) debugGap(changed []string, gap string) (rest, objs []string, err error) {
	_, headers := splitHeaders(changed)
	if r.opts.Source.Capabilities().BuildAll != nil {
		r.event(StagePatch, 0, 1, "the debug information cannot name every user of %s (%s): their users come from a full build's records", strings.Join(headers, ", "), gap)
		return changed, nil, nil
	}
	if r.opts.PartialHeaderUsers {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("header(s) %s changed: the debug information cannot name every user (%s)", strings.Join(headers, ", "), gap))
		return changed, nil, nil
	}
	return nil, nil, fmt.Errorf("header(s) %s changed, and the objects that include them cannot all be found: %s, and %s is not fully built (no .vmlinux.cmd). "+
		"Build the kernel once in the tree (make vmlinux modules) so that kbuild's records name them, "+
		"or, where modules lack debug information, give it for every module (Tree.ModulesDir, kpatch-build --modules-dir: the .ko.debug files or unstripped .ko of all the kernel's modules, with its modules.order from /lib/modules/<release>), "+
		"or accept patching only the objects already built (Options.PartialHeaderUsers, kpatch-build --partial-header-users): %w",
		strings.Join(headers, ", "), gap, r.tree.Dir, ErrTreeNotBuilt)
}
