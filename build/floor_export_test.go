// SPDX-License-Identifier: Apache-2.0

package build

import (
	"cmp"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
)

// CompileFloor prepares the compiles a warm build of opts cannot avoid: the
// patched side of every object the patches touch, with kbuild's recorded
// command as the build turns it (compiler, then objtool; the overlay's
// sources). The returned run executes just those, opts.Jobs at a time,
// costliest first as the build queues them; everything else a build does
// (the cached original, CRCs, diff, link, checks) is klpkit's overhead
// over it. For BenchmarkKpatchSuite; cleanup removes the work dir.
func CompileFloor(ctx context.Context, opts Options) (run func(context.Context) error, cleanup func(), err error) {
	r, err := newRun(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, step := range []func(context.Context) error{r.check, r.patch, r.recordCommands} {
		if err := step(ctx); err != nil {
			r.cleanup()
			return nil, nil, err
		}
	}
	cc := &compiler{tree: r.tree.Dir, makeArgs: r.tree.MakeArgs, log: r.log, as: r.as, root: r.root, kbuild: r.kbuilder()}
	type job struct {
		obj   string
		cost  int64
		steps [][]string
	}
	var jobs []job
	for _, u := range r.objs {
		cmd, err := cc.command(ctx, u.obj)
		if err == nil {
			err = r.ov.copyIn(cmd.Source)
			r.ov.files[cmd.Source] = true
		}
		out := filepath.Join(r.work, "floor", u.obj)
		if err == nil {
			err = r.mkdirForUser(filepath.Dir(out))
		}
		var steps [][]string
		if err == nil {
			steps, err = compileSteps(cmd, out, r.ov)
		}
		if err != nil {
			r.cleanup()
			return nil, nil, &ObjectError{Object: u.obj, Stage: StageCompile, Err: err}
		}
		jobs = append(jobs, job{u.obj, unitCost(r.tree.Dir, cmd.Source), steps})
	}
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(b.cost, a.cost) })
	run = func(ctx context.Context) error {
		q := newSlotQueue(r.opts.Jobs)
		q.hold()
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			t := q.ticket(j.cost)
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = t.run(ctx, func() error { return cc.run(ctx, j.obj, j.steps) })
			}()
		}
		q.resume()
		wg.Wait()
		return errors.Join(errs...)
	}
	return run, r.cleanup, nil
}
