// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/modname"
)

// moduleCover gathers the module files whose DWARF line tables list their
// units, and every module the kernel is known to have, so that a header's
// users are taken from debug information only when it covers them all:
// the modules present are not the modules the kernel has (a modules
// directory may hold a handful of them, or one module built apart).
type moduleCover struct {
	files   []string          // module files with line tables
	covered map[string]bool   // module name -> some file of it has a line table
	known   map[string]string // module name -> where it is known from
	looked  []string          // directories searched for module files
}

func newModuleCover() *moduleCover {
	return &moduleCover{covered: map[string]bool{}, known: map[string]string{}}
}

// scan adds the module files under dir (.ko, .ko.debug).
func (c *moduleCover) scan(dir string) {
	if dir == "" {
		return
	}
	c.looked = append(c.looked, dir)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // unreadable parts hold no usable modules
		if err != nil || d.IsDir() {
			return nil
		}
		name := moduleFileName(d.Name())
		if name == "" {
			return nil
		}
		if _, ok := c.known[name]; !ok {
			c.known[name] = p
		}
		if hasLineTable(p) {
			c.covered[name] = true
			c.files = append(c.files, p)
		}
		return nil
	})
}

// expect records modules the kernel has, known from source.
func (c *moduleCover) expect(names []string, source string) {
	for _, n := range names {
		if _, ok := c.known[n]; !ok {
			c.known[n] = source
		}
	}
}

// missing lists the known modules no file covers, sorted.
func (c *moduleCover) missing() []string {
	var out []string
	for n := range c.known {
		if !c.covered[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// describe names the missing modules (a few, with where each is known
// from) for an error.
func (c *moduleCover) describe(missing []string) string {
	const shown = 5
	var parts []string
	for i, n := range missing {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(missing)-shown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (from %s)", n, c.known[n]))
	}
	return fmt.Sprintf("%d of the kernel's modules have no line table (.ko.debug or unstripped .ko) under %s: %s",
		len(missing), quoteList(c.looked), strings.Join(parts, ", "))
}

func quoteList(dirs []string) string {
	if len(dirs) == 0 {
		return "no directory (Tree.ModulesDir is not set)"
	}
	q := make([]string, len(dirs))
	for i, d := range dirs {
		q[i] = fmt.Sprintf("%q", d)
	}
	return strings.Join(q, " or ")
}

// kernelModuleList returns the modules listed by the first kernel-wide
// modules.order in dirs, and its path. kbuild writes one at the top of a
// build tree after `make modules` and modules_install copies it to
// /lib/modules/<release>: tree-relative names (fs/xfs/xfs.ko, xfs.o from
// 6.2 on, kernel/fs/xfs/xfs.ko when installed). An external module's
// build (make M=) writes one too, naming its own modules by absolute
// paths: that is no list of the kernel's modules and is passed over.
func kernelModuleList(dirs ...string) (names []string, where string) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "modules.order")
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		names, ok := parseModulesOrder(string(data))
		if ok {
			return names, p
		}
	}
	return nil, ""
}

// parseModulesOrder reads a modules.order; ok is false for an external
// module build's (absolute names).
func parseModulesOrder(data string) (names []string, ok bool) {
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if path.IsAbs(line) {
			return nil, false
		}
		base := path.Base(line)
		if name, cut := strings.CutSuffix(base, ".o"); cut {
			base = name + ".ko"
		}
		if n := moduleFileName(base); n != "" {
			names = append(names, n)
		}
	}
	return names, true
}

// symversModules returns the modules Module.symvers names (those that
// export a symbol): not every module, but each one must be covered.
func symversModules(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil // no lower bound from an absent file
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 3 || fields[2] == "vmlinux" || fields[2] == "" {
			continue
		}
		n := modname.Kernel(path.Base(fields[2]))
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// moduleDebugInfo returns the module files whose line tables list every
// unit of the kernel's modules, or a reason ("" when none) why the debug
// information cannot be trusted to: then a header's users must come from
// elsewhere (a full build's kbuild records) or the build is refused.
//
// Tree.ModulesDir counts as complete only with a kernel-wide modules.order
// (in it, in its <release>/ or in the tree) whose every module, and every
// module Module.symvers or a module file there names, has a line table.
// A Source's ModuleDebugDir is a distribution's debuginfo package,
// built from every module of the kernel package: without a modules.order
// it is checked against Module.symvers and the module files seen.
func (r *runner) moduleDebugInfo(ctx context.Context) (files []string, gap string, err error) {
	c := newModuleCover()
	c.scan(r.tree.ModulesDir)
	c.expect(symversModules(r.tree.ModuleSymvers), r.tree.ModuleSymvers)
	var listDirs []string
	if r.tree.ModulesDir != "" {
		listDirs = append(listDirs, r.tree.ModulesDir, filepath.Join(r.tree.ModulesDir, r.tree.Release))
	}
	listDirs = append(listDirs, r.tree.Dir)
	list, where := kernelModuleList(listDirs...)
	c.expect(list, where)
	if list != nil && len(c.missing()) == 0 {
		return c.files, "", nil
	}
	trusted := false
	if moduleDebugDir := r.opts.Source.Capabilities().ModuleDebugDir; moduleDebugDir != nil {
		r.event(StagePatch, 0, 1, "a header changes in a kernel with modules: reading the modules' debug information")
		dir, err := moduleDebugDir(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("module debug information: %w", err)
		}
		c.scan(dir)
		if list == nil {
			list, where = kernelModuleList(dir)
			c.expect(list, where)
		}
		trusted = true
	}
	if missing := c.missing(); len(missing) > 0 {
		return nil, c.describe(missing), nil
	}
	if list == nil && !trusted {
		return nil, fmt.Sprintf("no modules.order in %s lists the modules the kernel has, so the %d module file(s) with line tables under %s may be only some of them",
			quoteList(listDirs), len(c.files), quoteList(c.looked)), nil
	}
	if len(c.files) == 0 {
		return nil, fmt.Sprintf("no module file with a line table under %s", quoteList(c.looked)), nil
	}
	return c.files, "", nil
}
