// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/modname"
	"github.com/klpkit/klpkit/internal/procgroup"
	"github.com/klpkit/klpkit/livepatch"
)

// OOTModule is an out-of-tree module to livepatch instead of the kernel
// (kpatch-build --oot-module and --oot-module-src). The patches apply to
// Source, with paths relative to it; Run compiles the module's original
// and patched objects with kbuild (make -C Tree.KbuildDir M=<a copy of
// Source>), diffs them as it diffs the kernel's, and the livepatch's one
// klp object is the module, by the name Module carries. References the
// patched code makes are resolved against Module's symbol table, then
// vmlinux's, as for an in-tree module. The kernel tree itself is not
// patched: a patch naming a file of the kernel tree that the module
// source lacks is refused (ErrBadOptions).
type OOTModule struct {
	// Module is the module's built .ko, the one that runs on the target
	// (e.g. /lib/modules/<release>/extra/foo.ko). Its .modinfo name (or
	// its struct module's) is the klp object's name; its symbol table
	// gives the positions of the names the patch refers to.
	Module string
	// Source is the module's source directory, as Module was built from
	// it: a Kbuild file or a Makefile kbuild reads with M=.
	Source string
}

// ootBuild is a run's out-of-tree module.
type ootBuild struct {
	module   string // the running module's .ko
	src      string // its source
	name     string // its name as the kernel knows it ('-' spelt '_')
	buildDir string // the copy kbuild builds in
}

// newOOTBuild checks o and reads the module's name.
func newOOTBuild(o *OOTModule) (*ootBuild, error) {
	switch {
	case o.Module == "" && o.Source == "":
		return nil, fmt.Errorf("%w: OOTModule needs Module (the built .ko) and Source (its source directory)", ErrBadOptions)
	case o.Module == "":
		return nil, fmt.Errorf("%w: out-of-tree module source %s: OOTModule.Module (the built .ko, kpatch-build --oot-module) is required: its symbols are what the livepatch resolves against", ErrBadOptions, o.Source)
	case o.Source == "":
		return nil, fmt.Errorf("%w: out-of-tree module %s: OOTModule.Source (its source directory, kpatch-build --oot-module-src) is required: the patches apply to it", ErrBadOptions, o.Module)
	}
	name, err := moduleNameOf(o.Module)
	if err != nil {
		return nil, fmt.Errorf("%w: out-of-tree module %s: %w", ErrBadOptions, o.Module, err)
	}
	src, err := filepath.Abs(o.Source)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("%w: out-of-tree module source: %w", ErrBadOptions, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: out-of-tree module source %s is not a directory", ErrBadOptions, o.Source)
	}
	if !fileExists(filepath.Join(src, "Kbuild")) && !fileExists(filepath.Join(src, "Makefile")) {
		return nil, fmt.Errorf("%w: out-of-tree module source %s has neither a Kbuild file nor a Makefile for kbuild's M=", ErrBadOptions, o.Source)
	}
	return &ootBuild{module: o.Module, src: src, name: name}, nil
}

// thisModuleNameOffset is where struct module keeps its name: after an
// enum (4 bytes, padded to 8) and a struct list_head (two pointers), in
// every kernel klpkit targets (64-bit).
const thisModuleNameOffset = 24

// moduleNameOf returns the name of the module in the .ko at path, spelt
// as the kernel knows it: its .modinfo name= entry, or the name in its
// .gnu.linkonce.this_module section (kernels whose modpost writes no
// name=).
func moduleNameOf(path string) (name string, err error) {
	defer func() {
		if p := recover(); p != nil {
			name, err = "", fmt.Errorf("%w: %v", ErrInternal, p)
		}
	}()
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("not a kernel module: %w", err)
	}
	defer f.Close()
	if s := f.Section(".modinfo"); s != nil {
		data, err := s.Data()
		if err != nil {
			return "", fmt.Errorf(".modinfo: %w", err)
		}
		for _, field := range bytes.Split(data, []byte{0}) {
			if v, ok := bytes.CutPrefix(field, []byte("name=")); ok && len(v) > 0 {
				return modname.Kernel(string(v)), nil
			}
		}
	}
	if s := f.Section(".gnu.linkonce.this_module"); s != nil && s.Type != elf.SHT_NOBITS {
		data, err := s.Data()
		if err != nil {
			return "", fmt.Errorf(".gnu.linkonce.this_module: %w", err)
		}
		if len(data) > thisModuleNameOffset {
			name, _, _ := bytes.Cut(data[thisModuleNameOffset:], []byte{0})
			if len(name) > 0 && validSymbol(string(name)) {
				return modname.Kernel(string(name)), nil
			}
		}
	}
	return "", errors.New("no module name: neither a .modinfo name= entry nor a named .gnu.linkonce.this_module section")
}

// patchOOT applies the patches to the module's source, in an overlay.
func (r *runner) patchOOT(ctx context.Context) error {
	r.event(StagePatch, 0, 1, "testing patch file(s) against out-of-tree module %s (%s)", r.oot.name, r.oot.src)
	if err := r.applyPatches(ctx, r.oot.src, r.checkPatchesOOT); err != nil {
		return err
	}
	for _, p := range r.ov.inexact {
		r.res.Warnings = append(r.res.Warnings, p.String())
		r.event(StagePatch, 0, 1, "hunk placed inexactly: %s", p)
	}
	r.event(StagePatch, 1, 1, "patches apply to %s; objects found by building it", r.oot.src)
	return nil
}

// checkPatchesOOT refuses a patch that changes the kernel tree: one run
// livepatches the out-of-tree module only.
func (r *runner) checkPatchesOOT(ps []*livepatch.Patch) error {
	for _, p := range ps {
		for _, fd := range p.Files {
			for _, rel := range []string{fd.OldPath, fd.NewPath} {
				if rel == "" || fileExists(filepath.Join(r.oot.src, rel)) {
					continue
				}
				if fileExists(filepath.Join(r.tree.Dir, rel)) {
					return fmt.Errorf("%w: patch %s changes %s, a file of the kernel tree %s, not of the out-of-tree module source %s: a livepatch for an out-of-tree module patches only the module (build the kernel's part as a livepatch of its own)",
						ErrBadOptions, p.Source, rel, r.tree.Dir, r.oot.src)
				}
			}
		}
	}
	return nil
}

// compileOOT builds the module from a copy of its source twice, as it is
// and patched, keeping each translation unit's object, and makes a unit
// of each object the patches changed.
func (r *runner) compileOOT(ctx context.Context) error {
	r.event(StageCompile, 0, 2, "building out-of-tree module %s, original and patched", r.oot.name)
	if err := r.checkBuildUser(ctx); err != nil {
		return err
	}
	dir := filepath.Join(r.work, "oot", "src")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := r.mkdirForUser(dir); err != nil {
		return err
	}
	// Its real path: make's M= names it, and a toolchain root binds the
	// work directory by its real path.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	// This process copies the source: the build user needs no access to
	// it, only to the copy it is given.
	if err := copySourceTree(r.oot.src, dir); err != nil {
		return fmt.Errorf("copying out-of-tree module source %s: %w", r.oot.src, err)
	}
	r.oot.buildDir = dir
	if err := asuser.OwnTree(ctx, r.as, dir); err != nil {
		return err
	}
	if err := r.makeOOT(ctx, "original"); err != nil {
		return err
	}
	if err := r.checkOOTBuilt(); err != nil {
		return err
	}
	orig, err := r.keepOOTObjects("orig")
	if err != nil {
		return err
	}
	origSymvers, err := r.readOOTSymvers()
	if err != nil {
		return err
	}
	r.event(StageCompile, 1, 2, "built %s (original): %d object(s)", r.oot.name, len(orig))
	// The patched files replace the copy's, later than the objects, so
	// that kbuild rebuilds what includes them: objects whose code did not
	// change compile to the same bytes in the same place.
	later := time.Now().Add(time.Second)
	for _, rel := range r.ov.changed {
		dst := filepath.Join(dir, rel)
		if !fileExists(r.ov.path(rel)) {
			if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFileAtomic(r.ov.path(rel), dst, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(dst, later, later); err != nil {
			return err
		}
	}
	if err := asuser.OwnTree(ctx, r.as, dir); err != nil {
		return err
	}
	if err := r.makeOOT(ctx, "patched"); err != nil {
		return err
	}
	patched, err := r.keepOOTObjects("patched")
	if err != nil {
		return err
	}
	patchedSymvers, err := r.readOOTSymvers()
	if err != nil {
		return err
	}
	if err := ootExportsUnchanged(r.oot.name, origSymvers, patchedSymvers); err != nil {
		return err
	}
	for _, obj := range patched {
		o, p := filepath.Join(r.work, "orig", obj), filepath.Join(r.work, "patched", obj)
		if !slices.Contains(orig, obj) {
			return &ObjectError{Object: obj, Stage: StageCompile, Err: fmt.Errorf("%w: the patches add a translation unit to out-of-tree module %s; a livepatch replaces functions of objects that exist", ErrUnsupportedPatch, r.oot.name)}
		}
		same, err := sameFile(o, p)
		if err != nil {
			return err
		}
		if !same {
			r.objs = append(r.objs, &unit{obj: obj, target: r.oot.name, orig: o, patched: p})
		}
	}
	if len(r.objs) == 0 {
		return fmt.Errorf("the patches change no object of out-of-tree module %s: %w", r.oot.name, ErrNoChanges)
	}
	r.event(StageCompile, 2, 2, "built %s (patched): %d object(s) changed", r.oot.name, len(r.objs))
	return nil
}

// makeOOT runs kbuild for the copy of the module's source. Every function
// and data object gets its own section (KCFLAGS) for the differ.
func (r *runner) makeOOT(ctx context.Context, side string) error {
	args := []string{"-C", r.root.path(r.tree.KbuildDir), "M=" + r.oot.buildDir, fmt.Sprintf("-j%d", r.opts.Jobs)}
	kcflags := strings.Join(sectionFlags, " ")
	for _, a := range r.tree.MakeArgs {
		if v, ok := strings.CutPrefix(a, "KCFLAGS="); ok {
			kcflags = v + " " + kcflags
			continue
		}
		args = append(args, a)
	}
	args = append(args, "KCFLAGS="+kcflags, "modules")
	r.log.Debug("kbuild builds the out-of-tree module", "side", side, "args", args)
	cmd := exec.CommandContext(ctx, "make", args...)
	procgroup.StopOnCancel(cmd, waitDelay)
	done, err := r.root.setup(cmd, r.as, r.oot.buildDir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = r.root.run(cmd) // in the toolchain root, when there is one
	out := buf.Bytes()
	done()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("building out-of-tree module %s (%s) from %s: make %s: %w\n%s", r.oot.name, side, r.oot.src, strings.Join(args, " "), err, lastLines(string(out), 30))
	}
	return nil
}

// readOOTSymvers reads the CRCs of the module's exports from the
// Module.symvers kbuild wrote in the build copy (none without the file).
func (r *runner) readOOTSymvers() (map[string]kernelCRC, error) {
	p := filepath.Join(r.oot.buildDir, "Module.symvers")
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	crcs, err := parseSymversCRCs(data)
	if err != nil {
		return nil, fmt.Errorf("out-of-tree module %s: %s: %w", r.oot.name, p, err)
	}
	return crcs, nil
}

// ootExportsUnchanged refuses a patch that changes the symbol version
// (CONFIG_MODVERSIONS CRC) of an export of the module, as checkExports
// does for the kernel's: modules built against the running module expect
// the old ABI. kbuild lists the module's exports, not which object has
// them, so the error names the module.
func ootExportsUnchanged(name string, orig, patched map[string]kernelCRC) error {
	var changes []CRCChange
	for _, sym := range slices.Sorted(maps.Keys(patched)) {
		if o, ok := orig[sym]; ok && o.crc != patched[sym].crc {
			changes = append(changes, CRCChange{Symbol: sym, Old: o.crc, New: patched[sym].crc})
		}
	}
	if len(changes) > 0 {
		return &ExportVersionError{Object: name + ".ko", Changes: changes}
	}
	return nil
}

// checkOOTBuilt refuses a source that does not build the module Module
// names: its symbols would not be the code the patches change.
func (r *runner) checkOOTBuilt() error {
	var names []string
	err := filepath.WalkDir(r.oot.buildDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".ko") {
			names = append(names, modname.Kernel(strings.TrimSuffix(d.Name(), ".ko")))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !slices.Contains(names, r.oot.name) {
		return fmt.Errorf("%w: out-of-tree module source %s builds %s, not %s, the module %s", ErrBadOptions, r.oot.src, quoteNames(names), r.oot.name, r.oot.module)
	}
	return nil
}

func quoteNames(names []string) string {
	if len(names) == 0 {
		return "no module"
	}
	return strings.Join(names, ", ")
}

// keepOOTObjects copies the module's translation units' objects from the
// build copy to work/<side>, returning their source-relative names. A
// translation unit is an object beside its .c file whose kbuild command
// names the module (or names no module); modpost's .mod.o files are not.
func (r *runner) keepOOTObjects(side string) ([]string, error) {
	var objs []string
	err := filepath.WalkDir(r.oot.buildDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".o") || strings.HasSuffix(p, ".mod.o") {
			return nil
		}
		if !fileExists(strings.TrimSuffix(p, ".o") + ".c") {
			return nil
		}
		rel, err := filepath.Rel(r.oot.buildDir, p)
		if err != nil {
			return err
		}
		if name := kbuildModName(filepath.Join(filepath.Dir(p), "."+d.Name()+".cmd")); name != "" && name != r.oot.name {
			return nil // another module of the same source
		}
		dst := filepath.Join(r.work, side, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFileAtomic(p, dst, 0o644); err != nil {
			return err
		}
		objs = append(objs, filepath.ToSlash(rel))
		return nil
	})
	return objs, err
}

// kbuildModName returns the module name kbuild compiled an object for,
// from its command file ("" when it cannot tell).
func kbuildModName(cmdFile string) string {
	data, err := os.ReadFile(cmdFile)
	if err != nil {
		return ""
	}
	_, after, ok := strings.Cut(string(data), "-DKBUILD_MODNAME=")
	if !ok {
		return ""
	}
	end := strings.IndexAny(after, " \t\n")
	if end < 0 {
		end = len(after)
	}
	return modname.Kernel(strings.Trim(after[:end], `'"\`))
}

// copySourceTree copies the module's source (directories, regular files
// and links as they are) into dst, leaving out what a build left there
// and hidden directories (.git, old kbuilds' .tmp_versions).
func copySourceTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case isKbuildProduct(d.Name()):
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return copyTreeFile(p, to, info)
		}
		return nil
	})
}

// isKbuildProduct reports whether kbuild makes a file of this name in a
// module's directory.
func isKbuildProduct(name string) bool {
	if name == "modules.order" || name == "Module.symvers" || (strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".cmd")) {
		return true
	}
	for _, ext := range []string{".o", ".ko", ".mod", ".mod.c", ".a", ".symtypes"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func sameFile(a, b string) (bool, error) {
	x, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}
