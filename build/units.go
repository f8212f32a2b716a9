// SPDX-License-Identifier: Apache-2.0

package build

import (
	"cmp"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/modname"
)

// unit is one translation unit through compile and diff.
type unit struct {
	obj     string // tree-relative object path
	cmd     *cmdFile
	target  string // "vmlinux" or the module's name
	orig    string // original object
	patched string // patched object
	cached  bool
	diff    *objdiff.Result
	patch   string // the patch object written from diff
	// redirects are the functions the module redirects to this unit's
	// patch object (original names).
	redirects map[string]bool
	crcs      *unitCRCs // symbol versions of its exports (startCRCs)
	cost      int64     // what compiling it costs, for the order (unitCost)

	// The objects as read and parsed once per build for the checks that
	// only read them (origObject, patchedObject, patchObject); the differ
	// parses its own copies, which it rewrites.
	origFile, patchedFile, patchFile *elfobj.File
}

// origObject returns u's original object, parsed on first use. Callers
// must not modify it.
func (u *unit) origObject() (*elfobj.File, error) { return parsedObject(&u.origFile, u.orig) }

// patchedObject returns u's patched object, parsed on first use. Callers
// must not modify it.
func (u *unit) patchedObject() (*elfobj.File, error) {
	return parsedObject(&u.patchedFile, u.patched)
}

// patchObject returns u's patch object as written for the link, parsed
// on first use. Callers must not modify it.
func (u *unit) patchObject() (*elfobj.File, error) { return parsedObject(&u.patchFile, u.patch) }

func parsedObject(cached **elfobj.File, path string) (*elfobj.File, error) {
	if *cached == nil {
		f, err := readObject(path)
		if err != nil {
			return nil, err
		}
		*cached = f
	}
	return *cached, nil
}

func numCPU() int { return runtime.NumCPU() }

// placeholderOut stands for the output path in cache keys.
const placeholderOut = "@OUT@"

// compile builds every unit's original (or takes it from the cache) and
// patched object. Every command (make, or one compile) holds one of Jobs
// slots, so a one-object patch compiles its two sides at once. Each unit is
// first prepared (its kbuild command, cache key and cached original); then
// the compiles and CRC runs of all units are queued together and start
// costliest first (slotQueue).
func (r *runner) compile(ctx context.Context) error {
	if r.oot != nil {
		return r.compileOOT(ctx)
	}
	total := len(r.objs)
	r.event(StageCompile, 0, total, "building original and patched objects")
	b := &unitBuilder{
		r:     r,
		cc:    &compiler{tree: r.tree.Dir, makeArgs: r.tree.MakeArgs, log: r.log, as: r.as, root: r.root, kbuild: r.kbuilder()},
		cache: &objectCache{dir: r.opts.CacheDir},
		base:  strings.Join([]string{r.tree.Release, r.configHash(), r.cc}, "\x00"),
		slots: newSlotQueue(r.opts.Jobs),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	finish := func(u *unit, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
				cancel()
			}
			return
		}
		done++
		r.event(StageCompile, done, total, "built %s (%s)", u.obj, u.target)
	}
	jobs := make([]*unitJob, len(r.objs))
	for i, u := range r.objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := b.prepare(ctx, u)
			if err != nil {
				finish(u, err)
				return
			}
			jobs[i] = j
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	slices.SortStableFunc(jobs, func(a, b *unitJob) int { return cmp.Compare(b.u.cost, a.u.cost) })
	b.slots.hold()
	for _, j := range jobs {
		wait := b.start(ctx, j)
		wg.Add(1)
		go func() {
			defer wg.Done()
			finish(j.u, wait())
		}()
	}
	b.slots.resume()
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// unitBuilder compiles units concurrently.
type unitBuilder struct {
	r     *runner
	cc    *compiler
	cache *objectCache
	base  string     // kernel, config and compiler part of cache keys
	slots *slotQueue // one slot per running command
	ovMu  sync.Mutex // guards the overlay
}

// do runs f holding a slot, queued at cost.
func (b *unitBuilder) do(ctx context.Context, cost int64, f func() error) error {
	return b.slots.do(ctx, cost, f)
}

// unitJob is a prepared unit: the commands of its two sides and the cache
// key of its original.
type unitJob struct {
	u                       *unit
	origSteps, patchedSteps [][]string
	key                     string
}

// prepare reads u's kbuild command (kbuild records it first when the tree
// lacks it), works out both sides' commands and takes the original from
// the cache when it is there.
func (b *unitBuilder) prepare(ctx context.Context, u *unit) (*unitJob, error) {
	r := b.r
	fail := func(err error) error { return &ObjectError{Object: u.obj, Stage: StageCompile, Err: err} }
	var cmd *cmdFile
	err := b.do(ctx, 0, func() (err error) {
		cmd, err = b.cc.command(ctx, u.obj)
		return err
	})
	if err != nil {
		return nil, fail(err)
	}
	u.cmd = cmd
	u.target = targetOf(cmd)
	u.cost = unitCost(r.tree.Dir, cmd.Source)
	u.orig = filepath.Join(r.work, "orig", u.obj)
	u.patched = filepath.Join(r.work, "patched", u.obj)
	for _, p := range []string{u.orig, u.patched} {
		if err := r.mkdirForUser(filepath.Dir(p)); err != nil {
			return nil, fail(err)
		}
	}
	keySteps, err := compileSteps(cmd, placeholderOut, nil)
	if err != nil {
		return nil, fail(err)
	}
	j := &unitJob{u: u}
	if j.origSteps, err = compileSteps(cmd, u.orig, nil); err != nil {
		return nil, fail(err)
	}
	// The patched side always compiles from the overlay, so that a patched
	// header next to the source is found first.
	b.ovMu.Lock()
	err = r.ov.copyIn(cmd.Source)
	r.ov.files[cmd.Source] = true
	if err == nil {
		j.patchedSteps, err = compileSteps(cmd, u.patched, r.ov)
	}
	b.ovMu.Unlock()
	if err != nil {
		return nil, fail(err)
	}
	j.key = b.cache.key(b.base, r.tree.Dir, cmd, keySteps)
	u.cached = b.cache.get(j.key, u.orig)
	return j, nil
}

// start queues j's compiles and CRC runs and returns the function that
// waits for them.
func (b *unitBuilder) start(ctx context.Context, j *unitJob) (wait func() error) {
	r, u := b.r, j.u
	fail := func(err error) error { return &ObjectError{Object: u.obj, Stage: StageCompile, Err: err} }
	waitCRCs := b.startCRCs(ctx, u, j.key, j.origSteps[0], j.patchedSteps[0])
	origErr := make(chan error, 1)
	if u.cached {
		origErr <- nil
	} else {
		t := b.slots.ticket(u.cost)
		go func() {
			origErr <- t.run(ctx, func() error {
				if err := b.cc.run(ctx, u.obj, j.origSteps); err != nil {
					return fmt.Errorf("original: %w", err)
				}
				if err := b.cache.put(j.key, u.orig); err != nil {
					r.log.Warn("object cache", "object", u.obj, "err", err)
				}
				return nil
			})
		}()
	}
	patched := b.slots.ticket(u.cost)
	return func() error {
		patchedErr := patched.run(ctx, func() error {
			if err := b.cc.run(ctx, u.obj, j.patchedSteps); err != nil {
				return fmt.Errorf("patched: %w", err)
			}
			return nil
		})
		if err := errors.Join(<-origErr, patchedErr); err != nil {
			waitCRCs(false)
			return fail(err)
		}
		if err := waitCRCs(true); err != nil {
			return fail(err)
		}
		return nil
	}
}

// targetOf returns the object a translation unit is linked into: kbuild
// compiles module code with -DMODULE and names the module in
// KBUILD_MODNAME; everything else is built into vmlinux.
func targetOf(cmd *cmdFile) string {
	module, name := false, ""
	for _, step := range cmd.Steps {
		for _, a := range step {
			if a == "-DMODULE" {
				module = true
			}
			if v, ok := strings.CutPrefix(a, "-DKBUILD_MODNAME="); ok {
				name = strings.Trim(v, `"`)
			}
		}
	}
	if module && name != "" {
		return modname.Kernel(name)
	}
	return "vmlinux"
}

// diff compares every unit's objects and writes the patch objects.
func (r *runner) diff(ctx context.Context) error {
	total := len(r.objs)
	r.event(StageDiff, 0, total, "extracting new and modified ELF sections")
	exported, err := r.exports()
	if err != nil {
		return err
	}
	var refusals, unchanged []error
	var changed []*unit
	for i, u := range r.objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := diffFiles(u, exported)
		switch {
		case errors.Is(err, objdiff.ErrNoChanges):
			r.event(StageDiff, i+1, total, "%s", err)
			unchanged = append(unchanged, err)
			continue
		case errors.Is(err, objdiff.ErrUnsupportedChange):
			refusals = append(refusals, &ObjectError{Object: u.obj, Stage: StageDiff, Err: fmt.Errorf("%w: %w", ErrUnsupportedPatch, err)})
			continue
		case err != nil:
			return &ObjectError{Object: u.obj, Stage: StageDiff, Err: err}
		}
		u.diff = res
		for _, w := range res.Warnings {
			r.res.Warnings = append(r.res.Warnings, u.obj+": "+w)
		}
		changed = append(changed, u)
		r.event(StageDiff, i+1, total, "%s: %d changed, %d new function(s)", u.obj, len(res.Changed), len(res.New))
	}
	if len(refusals) > 0 {
		return errors.Join(refusals...)
	}
	if len(changed) == 0 {
		// Each object's reason (e.g. only line numbers moved) is kept.
		return fmt.Errorf("%w in %d object(s): %w", ErrNoChanges, total, errors.Join(unchanged...))
	}
	for _, u := range r.objs {
		o := Object{Path: u.obj, Target: u.target, Cached: u.cached}
		if u.diff != nil {
			for _, f := range u.diff.Changed {
				o.Changed = append(o.Changed, f.Name)
			}
			for _, f := range u.diff.New {
				o.New = append(o.New, f.Name)
			}
		}
		r.res.Objects = append(r.res.Objects, o)
	}
	r.objs = changed
	return nil
}

func diffFiles(u *unit, exported map[string]bool) (*objdiff.Result, error) {
	of, err := os.Open(u.orig)
	if err != nil {
		return nil, err
	}
	defer of.Close()
	pf, err := os.Open(u.patched)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	return objdiff.Diff(of, pf, &objdiff.Options{Name: u.obj, Parent: u.target, Exported: exported})
}

// readObject reads and parses the relocatable object at path.
func readObject(path string) (*elfobj.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := elfobj.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// objectLocals returns the local function and object names of an object:
// what tells its STT_FILE block apart in vmlinux's symbol table.
func objectLocals(f *elfobj.File) []string {
	var names []string
	for _, s := range f.Symbols[1:] {
		// Left out: compiler-numbered names (foo.isra.0, bar.1) and
		// __UNIQUE_ID_ counters, which need not be spelt the same in
		// vmlinux, and symbols of sections the kernel link discards.
		if s.Bind == elf.STB_LOCAL && s.Section != nil && (s.Type == elf.STT_FUNC || s.Type == elf.STT_OBJECT) &&
			!strings.Contains(s.Name, ".") && !strings.HasPrefix(s.Name, "__UNIQUE_ID_") &&
			s.Section.Flags&elf.SHF_ALLOC != 0 && !strings.HasPrefix(s.Section.Name, ".discard") {
			names = append(names, s.Name)
		}
	}
	return names
}
