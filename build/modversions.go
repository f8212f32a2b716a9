// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/atomicfile"
)

// Symbol versions (CONFIG_MODVERSIONS). kbuild gives every export a CRC of
// the types its prototype reaches; modules record the CRCs they were built
// against and the loader refuses a mismatch. A livepatch that changes what
// those types look like to the CRC generator leaves the running kernel's
// callers and the new code disagreeing on an ABI, so Run recomputes the
// CRCs of the exports of every patched object, original and patched, the
// way kbuild does, and refuses a change (kpatch's "Version disagreement").

// crcMethod is how the target kernel computes its symbol versions.
type crcMethod int

const (
	crcNone     crcMethod = iota // no CONFIG_MODVERSIONS: nothing to check
	crcGenksyms                  // genksyms on the preprocessed source
	crcDwarf                     // gendwarfksyms on the object's DWARF (6.14+)
)

func crcMethodOf(c kconfig) crcMethod {
	switch {
	case c["CONFIG_MODVERSIONS"] != "y":
		return crcNone
	case c["CONFIG_GENDWARFKSYMS"] == "y":
		return crcDwarf
	default:
		return crcGenksyms
	}
}

// crcTool runs the tree's own CRC generator.
type crcTool struct {
	method crcMethod
	tree   string
	path   string       // tree-relative tool, e.g. scripts/genksyms/genksyms
	as     *asuser.User // runs the tool and the preprocessor; nil: this process
	root   *rootEnv     // runs them in a toolchain root; nil: on the host
}

// newCRCTool finds the generator the config asks for; it is built by
// `make prepare` (scripts), which a prepared tree has done.
func newCRCTool(tree string, c kconfig) (*crcTool, error) {
	t := &crcTool{method: crcMethodOf(c), tree: tree}
	switch t.method {
	case crcNone:
		return t, nil
	case crcDwarf:
		t.path = "scripts/gendwarfksyms/gendwarfksyms"
	default:
		t.path = "scripts/genksyms/genksyms"
	}
	if st, err := os.Stat(filepath.Join(tree, t.path)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%w: the kernel uses CONFIG_MODVERSIONS%s but the tree %s has no %s: run `make prepare` (or `make scripts`) in it",
			ErrModversions, map[bool]string{true: " with CONFIG_GENDWARFKSYMS", false: ""}[t.method == crcDwarf], tree, t.path)
	}
	return t, nil
}

// exportCRCs are the symbol versions of one object's exports.
type exportCRCs map[string]uint32

// parseCRCs reads a CRC generator's output: "#SYMVER name 0xcrc" lines
// (Linux 5.19 and later, both generators) or "__crc_name = 0xcrc;" linker
// script lines (genksyms before 5.19). Other lines are an error: they mean
// a format this code does not know, and guessing would misfire.
func parseCRCs(data []byte) (exportCRCs, error) {
	out := exportCRCs{}
	for n, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		var name, val string
		if rest, ok := strings.CutPrefix(line, "#SYMVER "); ok {
			f := strings.Fields(rest)
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want #SYMVER <symbol> <crc>: %q", n+1, line)
			}
			name, val = f[0], f[1]
		} else if rest, ok := strings.CutPrefix(line, "__crc_"); ok {
			lhs, rhs, ok := strings.Cut(strings.TrimSuffix(rest, ";"), "=")
			if !ok || !strings.HasSuffix(rest, ";") {
				return nil, fmt.Errorf("line %d: want __crc_<symbol> = <crc>;: %q", n+1, line)
			}
			name, val = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
		} else {
			return nil, fmt.Errorf("line %d: unknown symbol version line %q", n+1, line)
		}
		crc, err := parseCRC(val)
		if err != nil || !validSymbol(name) {
			return nil, fmt.Errorf("line %d: bad symbol version %q", n+1, line)
		}
		out[name] = crc
	}
	return out, nil
}

// validSymbol reports whether name can be an exported C symbol.
func validSymbol(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func parseCRC(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 32)
	return uint32(v), err
}

// formatCRCs writes crcs in the #SYMVER form parseCRCs reads (the cache).
func formatCRCs(crcs exportCRCs) []byte {
	var b bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(crcs)) {
		fmt.Fprintf(&b, "#SYMVER %s 0x%08x\n", name, crcs[name])
	}
	return b.Bytes()
}

// genksymsArgs turns a compile step (compileSteps' first) into kbuild's
// genksyms input command: the same compiler and c_flags, preprocessing
// only, with __GENKSYMS__ defined, to stdout.
func genksymsArgs(cc []string) []string {
	args := []string{cc[0]}
	for i := 1; i < len(cc); i++ {
		switch {
		case cc[i] == "-c":
			continue
		case cc[i] == "-o" && i+1 < len(cc):
			i++
			continue
		}
		args = append(args, cc[i])
	}
	return append(args, "-E", "-D__GENKSYMS__")
}

// genksyms computes the CRCs of the exports of the source cc compiles, as
// kbuild's cmd_gensymtypes_c does: `$(CPP) -D__GENKSYMS__ $(c_flags) $< |
// genksyms [-r <obj>.symref]`.
func (t *crcTool) genksyms(ctx context.Context, obj string, cc []string) (exportCRCs, error) {
	cpp := genksymsArgs(cc)
	gkArgs := []string{}
	if ref := strings.TrimSuffix(obj, ".o") + ".symref"; fileExists(filepath.Join(t.tree, ref)) {
		gkArgs = append(gkArgs, "-r", ref)
	}
	pre := exec.CommandContext(ctx, cpp[0], cpp[1:]...)
	gk := exec.CommandContext(ctx, "./"+t.path, gkArgs...)
	pre.WaitDelay, gk.WaitDelay = waitDelay, waitDelay
	preDone, err := t.root.setup(pre, t.as, t.tree)
	if err != nil {
		return nil, err
	}
	defer preDone()
	gkDone, err := t.root.setup(gk, t.as, t.tree)
	if err != nil {
		return nil, err
	}
	defer gkDone()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var out, preErr, gkErr bytes.Buffer
	pre.Stdout, pre.Stderr = pw, &preErr
	gk.Stdin, gk.Stdout, gk.Stderr = pr, &out, &gkErr
	if err := t.root.start(gk); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrModversions, t.path, err)
	}
	pr.Close()
	startErr := t.root.start(pre)
	pw.Close()
	var runErr error
	if startErr == nil {
		runErr = pre.Wait()
	}
	waitErr := gk.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case startErr != nil:
		return nil, fmt.Errorf("%w: preprocessing %s for genksyms: %w", ErrModversions, obj, startErr)
	case runErr != nil:
		return nil, fmt.Errorf("%w: preprocessing %s for genksyms: %w\n%s", ErrModversions, obj, runErr, lastLines(preErr.String(), 20))
	case waitErr != nil:
		return nil, fmt.Errorf("%w: genksyms on %s: %w\n%s", ErrModversions, obj, waitErr, lastLines(gkErr.String(), 20))
	}
	crcs, err := parseCRCs(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w: genksyms output for %s: %w", ErrModversions, obj, err)
	}
	return crcs, nil
}

// dwarfksyms computes the CRCs of the exports of object as kbuild's
// CONFIG_GENDWARFKSYMS rule does: the names of its __export_symbol_*
// symbols on stdin, the object's DWARF read by gendwarfksyms.
func (t *crcTool) dwarfksyms(ctx context.Context, obj, object string, names []string) (exportCRCs, error) {
	gk := exec.CommandContext(ctx, "./"+t.path, object)
	gk.WaitDelay = waitDelay
	done, err := t.root.setup(gk, t.as, t.tree)
	if err != nil {
		return nil, err
	}
	defer done()
	var out, stderr bytes.Buffer
	gk.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	gk.Stdout, gk.Stderr = &out, &stderr
	if err := t.root.run(gk); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: gendwarfksyms on %s: %w\n%s", ErrModversions, obj, err, lastLines(stderr.String(), 20))
	}
	crcs, err := parseCRCs(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w: gendwarfksyms output for %s: %w", ErrModversions, obj, err)
	}
	return crcs, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// exportPrefixes mark an object's exports: __ksymtab_<sym> up to Linux
// 6.4, __export_symbol_<sym> from 6.5. kbuild runs the CRC generator only
// for objects that have them (gen_symversions).
var exportPrefixes = []string{"__ksymtab_", "__export_symbol_"}

// objectExports returns the exported names the object at path declares.
func objectExports(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	for _, s := range syms {
		for _, p := range exportPrefixes {
			if name, ok := strings.CutPrefix(s.Name, p); ok && name != "" {
				names = append(names, name)
				break
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// kbuildSawExports predicts, before compiling, whether obj exports
// symbols: kbuild appended #SYMVER lines to its .cmd file, or the object
// kbuild built in the tree has export symbols. A wrong "no" only costs
// time: the compiled objects are checked afterwards.
func kbuildSawExports(tree, obj string) bool {
	if data, err := os.ReadFile(cmdFilePath(tree, obj)); err == nil && bytes.Contains(data, []byte("\n#SYMVER ")) {
		return true
	}
	names, err := objectExports(filepath.Join(tree, obj))
	return err == nil && len(names) > 0
}

// unitCRCs are the symbol versions of one unit's exports on both sides;
// nil maps mean the object exports nothing.
type unitCRCs struct {
	orig, patched exportCRCs
}

// crcCachePath is where the original object's CRCs are kept beside it.
func (c *objectCache) crcPath(key string) string {
	return filepath.Join(c.dir, "objects", key[:2], key+".crc")
}

// startCRCs starts computing the CRCs of u's exports, original and
// patched, and returns the function that waits for them and stores them in
// u.crcs (compiled false: the compile failed, just wait). With genksyms and kbuild having seen exports, the work runs
// beside the compile (it reads only sources); otherwise, and always for
// gendwarfksyms, which reads the objects, it runs after the compile for
// objects that turn out to export. origCC and patchedCC are the compile
// steps of the two sides; key is the original object's cache key.
func (b *unitBuilder) startCRCs(ctx context.Context, u *unit, key string, origCC, patchedCC []string) (wait func(compiled bool) error) {
	r := b.r
	method := crcMethodOf(r.config)
	if method == crcNone {
		return func(bool) error { return nil }
	}
	var (
		wg                  sync.WaitGroup
		origErr, patchedErr error
		res                 unitCRCs
		started             bool
	)
	compute := func(tool *crcTool, side string) {
		if side == "orig" && key != "" && b.cache.dir != "" {
			if data, err := os.ReadFile(b.cache.crcPath(key)); err == nil {
				if crcs, err := parseCRCs(data); err == nil {
					res.orig = crcs
					return
				}
			}
		}
		// Queued now, so that the compile queue orders it by its cost.
		t := b.slots.ticket(u.cost * crcCostPct / 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := t.run(ctx, func() (err error) {
				var crcs exportCRCs
				switch {
				case tool.method == crcDwarf:
					object := map[string]string{"orig": u.orig, "patched": u.patched}[side]
					var names []string
					if names, err = objectExports(object); err == nil && len(names) > 0 {
						crcs, err = tool.dwarfksyms(ctx, u.obj, object, names)
					}
				case side == "orig":
					crcs, err = tool.genksyms(ctx, u.obj, origCC)
				default:
					crcs, err = tool.genksyms(ctx, u.obj, patchedCC)
				}
				if err != nil {
					return err
				}
				if side == "orig" {
					res.orig = crcs
					if key != "" && b.cache.dir != "" {
						if err := atomicfile.WriteFile(b.cache.crcPath(key), formatCRCs(crcs), 0o644); err != nil {
							r.log.Warn("object cache", "object", u.obj, "err", err)
						}
					}
				} else {
					res.patched = crcs
				}
				return nil
			})
			if side == "orig" {
				origErr = err
			} else {
				patchedErr = err
			}
		}()
	}
	var tool *crcTool
	var toolErr error
	if method == crcGenksyms && kbuildSawExports(r.tree.Dir, u.obj) {
		if tool, toolErr = r.newCRCTool(); toolErr == nil {
			compute(tool, "orig")
			compute(tool, "patched")
			started = true
		}
	}
	return func(compiled bool) error {
		wg.Wait()
		if !compiled {
			return nil // the compile failed: only stop what runs
		}
		if toolErr != nil {
			return toolErr
		}
		if err := errors.Join(origErr, patchedErr); err != nil {
			return err
		}
		if !started {
			var exports bool
			for _, p := range []string{u.orig, u.patched} {
				names, err := objectExports(p)
				if err != nil {
					return err
				}
				exports = exports || len(names) > 0
			}
			if !exports {
				return nil
			}
			if tool, toolErr = r.newCRCTool(); toolErr != nil {
				return toolErr
			}
			compute(tool, "orig")
			compute(tool, "patched")
			wg.Wait()
			if err := errors.Join(origErr, patchedErr); err != nil {
				return err
			}
		}
		u.crcs = &res
		return nil
	}
}
