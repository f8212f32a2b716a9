// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/internal/klp"
	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/modname"
)

// symvers are the kernel's exports from Module.symvers: symbol to the
// object exporting it ("vmlinux" or a module).
type symvers map[string]string

func readSymvers(path string) (symvers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("module symvers: %w", err)
	}
	out := symvers{}
	// Split, not bufio.Scanner, which fails on a line over 64 KiB with an
	// error that names no file.
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" && len(data) <= 1 {
			break // an empty file: no exports
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			return nil, fmt.Errorf("module symvers %s line %d: want crc, symbol, module, export type", path, n+1)
		}
		out[f[1]] = f[2]
	}
	return out, nil
}

// exports returns vmlinux's exports, the set the differ keeps as normal
// relocations; module exports become klp relocations so that the patch
// module does not depend on (and pin) the modules it patches.
func (r *runner) exports() (map[string]bool, error) {
	if r.symvers == nil {
		sv, err := readSymvers(r.tree.ModuleSymvers)
		if err != nil {
			return nil, err
		}
		r.symvers = sv
	}
	out := map[string]bool{}
	for s, obj := range r.symvers {
		if obj == "vmlinux" {
			out[s] = true
		}
	}
	return out, nil
}

func (r *runner) configHash() string {
	data, err := os.ReadFile(r.tree.Config)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// table returns the symbol table of target, nil for a module whose .ko
// is not available.
func (r *runner) table(target string) (*klp.SymbolTable, error) {
	if t, ok := r.tables[target]; ok {
		return t, nil
	}
	var t *klp.SymbolTable
	var err error
	if target == "vmlinux" {
		t, err = r.readVmlinuxTable()
	} else if ko := r.findModule(target); ko != "" {
		var f *os.File
		if f, err = os.Open(ko); err == nil {
			t, err = klp.ReadModule(f, ko)
			f.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	if r.tables == nil {
		r.tables = map[string]*klp.SymbolTable{}
	}
	r.tables[target] = t
	return t, nil
}

func (r *runner) readVmlinuxTable() (*klp.SymbolTable, error) {
	if r.tree.Vmlinux != "" {
		f, err := os.Open(r.tree.Vmlinux)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return klp.ReadVmlinux(f, r.tree.Vmlinux)
	}
	f, err := os.Open(r.tree.SystemMap)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return klp.ReadSystemMap(f, r.tree.SystemMap)
}

// findModule looks for the target module's .ko under Tree.ModulesDir.
func (r *runner) findModule(target string) string {
	if r.oot != nil && target == r.oot.name {
		return r.oot.module
	}
	if r.tree.ModulesDir == "" {
		return ""
	}
	var found string
	filepath.WalkDir(r.tree.ModulesDir, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // a missing module is reported by the caller
		if err != nil || found != "" {
			return nil
		}
		if !d.IsDir() && moduleFileName(d.Name()) == target {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// moduleFileName returns the module name a file holds with '-' spelt
// '_', for plain modules (x.ko) and debuginfo copies (x.ko.debug, as in
// distribution debuginfo packages); "" for other files.
func moduleFileName(file string) string {
	for _, ext := range []string{".ko", ".ko.debug"} {
		if name, ok := strings.CutSuffix(file, ext); ok {
			return modname.Kernel(name)
		}
	}
	return ""
}

// position returns the sympos of name in target.
func (r *runner) position(target, name string, local bool, objLocals []string) (int, error) {
	t, err := r.table(target)
	if err != nil {
		return 0, err
	}
	if t == nil {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: module %s not found under %q: position 0 (unique) assumed for %s", target, target, r.tree.ModulesDir, name))
		return 0, nil
	}
	return t.Position(name, local, objLocals)
}

// link writes the patch objects, links the module and writes it out.
func (r *runner) link(ctx context.Context) error {
	r.event(StageLink, 0, 1, "building patch module %s.ko", r.name)
	linkDir := filepath.Join(r.work, "module")
	if err := os.RemoveAll(linkDir); err != nil {
		return err
	}
	if err := r.mkdirForUser(linkDir); err != nil {
		return err
	}
	// A global two patch objects define is refused before any object is
	// written, with both names, not left to the linker.
	if _, err := r.moduleGlobals(); err != nil {
		return err
	}
	m := &klp.Module{Name: r.name, Description: r.opts.Description, NoReplace: r.opts.NoReplace}
	objIndex := map[string]int{}
	var objects []string
	for i, u := range r.objs {
		funcs, cbs, path, err := r.preparePatchObject(i, u)
		if err != nil {
			return &ObjectError{Object: u.obj, Stage: StageLink, Err: err}
		}
		u.redirects = map[string]bool{}
		for _, f := range funcs {
			u.redirects[f.OldName] = true
		}
		objects = append(objects, path)
		if len(funcs) == 0 && cbs == (klp.Callbacks{}) {
			continue
		}
		k, ok := objIndex[u.target]
		if !ok {
			k = len(m.Objects)
			objIndex[u.target] = k
			m.Objects = append(m.Objects, klp.Object{Name: u.target})
		}
		o := &m.Objects[k]
		o.Funcs = append(o.Funcs, funcs...)
		for _, cb := range []struct{ kind, sym string }{{"pre_patch", cbs.PrePatch}, {"post_patch", cbs.PostPatch}, {"pre_unpatch", cbs.PreUnpatch}, {"post_unpatch", cbs.PostUnpatch}} {
			if cb.sym == "" {
				continue
			}
			if err := o.Callbacks.Set(cb.kind, cb.sym); err != nil {
				return &ObjectError{Object: u.obj, Stage: StageLink, Err: fmt.Errorf("target %s: %w", u.target, err)}
			}
		}
	}
	if len(m.Objects) == 0 {
		return fmt.Errorf("no function changed and no callback added; new code alone would never run: %w", ErrNoChanges)
	}
	checked, err := r.checkChangedLinesPatched(m)
	if err != nil {
		return err
	}
	r.event(StageLink, 0, 1, "%d function(s) hold changed lines: the code of each changed line runs once the module is loaded", checked)
	var log bytes.Buffer
	ko, err := klp.Link(ctx, m, klp.LinkOptions{
		KbuildDir: r.tree.KbuildDir,
		MakeArgs:  r.tree.MakeArgs,
		WorkDir:   linkDir,
		Objects:   objects,
		Exported:  func(s string) bool { _, ok := r.symvers[s]; return ok },
		Release:   r.tree.Release,
		Output:    &log,
		Command:   r.linkCommand,
		Start:     r.root.start,
		RecipeDir: r.opts.CacheDir,
		Notify:    func(msg string) { r.event(StageLink, 0, 1, "%s", msg) },
	})
	r.linkLog = log.String()
	if err != nil {
		return err
	}
	r.event(StageLink, 1, 1, "linked %s.ko", r.name)
	return r.output(ctx, ko)
}

// preparePatchObject writes u's patch object for the link: a global alias
// for each changed function (the klp_func table refers to it) and every
// reference the livepatch core must resolve renamed to its .klp.sym name.
func (r *runner) preparePatchObject(i int, u *unit) (funcs []klp.Func, cbs klp.Callbacks, path string, err error) {
	var buf bytes.Buffer
	if err := u.diff.WriteObject(&buf); err != nil {
		return nil, cbs, "", err
	}
	f, err := elfobj.Parse(buf.Bytes())
	if err != nil {
		return nil, cbs, "", fmt.Errorf("patch object: %w", err)
	}
	of, err := u.origObject()
	if err != nil {
		return nil, cbs, "", err
	}
	locals := objectLocals(of)
	if cbs, err = collectCallbacks(f, i); err != nil {
		return nil, cbs, "", err
	}
	for j, fn := range u.diff.Changed {
		if err := r.checkSymbolName(fn.Name); err != nil {
			return nil, cbs, "", err
		}
		pos, err := r.position(u.target, fn.Name, fn.Bind == elf.STB_LOCAL, locals)
		if err != nil {
			return nil, cbs, "", fmt.Errorf("changed function %s: %w", fn.Name, err)
		}
		alias := fmt.Sprintf("klpkit_new_%d_%d", i, j)
		if err := klp.AliasFunction(f, fn.Name, alias); err != nil {
			return nil, cbs, "", err
		}
		funcs = append(funcs, klp.Func{OldName: fn.Name, Sympos: pos, NewSymbol: alias})
	}
	renamed := map[string]bool{}
	for _, rel := range u.diff.Relocations {
		if rel.Exported || renamed[rel.Symbol] {
			continue
		}
		obj, pos, err := r.resolve(u, rel.Symbol, rel.Bind == elf.STB_LOCAL, rel.Livepatch, locals)
		if err != nil {
			return nil, cbs, "", err
		}
		renamed[rel.Symbol] = true
		if obj == "" {
			continue // the module's own global or an export: a normal relocation
		}
		if err := r.checkSymbolName(rel.Symbol); err != nil {
			return nil, cbs, "", err
		}
		to := klp.KlpSymbolName(obj, rel.Symbol, pos)
		if obj != u.target && obj != "vmlinux" {
			// Another module's symbol: the relocation is u.target's (see
			// klp.CrossKlpSymbolName), written when u.target loads.
			to = klp.CrossKlpSymbolName(u.target, obj, rel.Symbol, pos)
			r.checkCrossDepends(u, obj, rel.Symbol)
		}
		if err := klp.RenameUndefined(f, rel.Symbol, to); err != nil {
			return nil, cbs, "", err
		}
	}
	// Code the kernel patches at load must not need a klp relocation
	// written only afterwards (before 5.8: all of them).
	if err := klp.CheckArchPatching(f, r.vmlinuxKlpEarly()); err != nil {
		return nil, cbs, "", fmt.Errorf("%w for kernel %s: %w", ErrUnsupportedPatch, r.tree.Release, err)
	}
	var out bytes.Buffer
	if err := elfobj.Write(&out, f); err != nil {
		return nil, cbs, "", err
	}
	path = filepath.Join(r.work, "patch", fmt.Sprintf("%d-%s", i, strings.ReplaceAll(u.obj, "/", "_")))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, cbs, "", err
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		return nil, cbs, "", err
	}
	u.patch, u.patchFile = path, f // f is what was written
	return funcs, cbs, path, nil
}

// resolve decides who resolves a reference the patch object leaves
// undefined: the livepatch core in u's target, in vmlinux or in the
// module that exports it (returning that object and the symbol's
// position), or the module link for a global another patch object
// defines and the module loader for an export of vmlinux (returning "").
func (r *runner) resolve(u *unit, name string, local, inObject bool, locals []string) (string, int, error) {
	if inObject {
		pos, err := r.position(u.target, name, local, locals)
		return u.target, pos, err
	}
	if !local {
		if own, err := r.ownDefinition(u, name); err != nil || own {
			return "", 0, err
		}
	}
	if u.target != "vmlinux" {
		if t, err := r.table(u.target); err != nil {
			return "", 0, err
		} else if t != nil && t.Has(name) {
			pos, err := t.Position(name, local, nil)
			return u.target, pos, err
		}
	}
	if owner := r.moduleExporting(name); owner != "" && !local && u.target != "vmlinux" {
		// Another module's export (the target's own are found above) is
		// a klp relocation, as kpatch makes it (create-diff-object.c,
		// need_klp_reloc): a normal one would make the patch module
		// depend on that module, so it could not load before it and
		// would pin it. Position 0: an export's name is unique.
		return owner, 0, nil
	}
	vt, err := r.table("vmlinux")
	if err != nil {
		return "", 0, err
	}
	if vt.Has(name) {
		pos, err := vt.Position(name, false, nil)
		return "vmlinux", pos, err
	}
	if _, ok := r.symvers[name]; ok {
		return "", 0, nil
	}
	if t, _ := r.table(u.target); t == nil && u.target != "vmlinux" {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("%s: symbol %s is in neither vmlinux nor the exports: assumed in module %s, position 0", u.obj, name, u.target))
		return u.target, 0, nil
	}
	return "", 0, fmt.Errorf("symbol %s not found in vmlinux's symbol table or the exports", name)
}

// output signs the module (Options.Signer), writes it atomically and the
// debug export.
func (r *runner) output(ctx context.Context, ko []byte) error {
	ko, err := r.sign(ctx, ko)
	if err != nil {
		return err
	}
	r.event(StageOutput, 0, 1, "writing %s.ko", r.name)
	if err := os.MkdirAll(r.opts.OutputDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(r.opts.OutputDir, r.name+".ko")
	if err := atomicfile.WriteFile(dst, ko, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	r.res.Module = dst
	if r.opts.DebugDir != "" {
		if err := r.exportDebug(nil); err != nil {
			return err
		}
	}
	r.event(StageOutput, 1, 1, "SUCCESS: %s", dst)
	return nil
}
