// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/clijson"
	"github.com/klpkit/klpkit/rpmpkg"
)

// stepEvent is a photonsource step as a --json-events event.
type stepEvent struct {
	Step    string `json:"step"`
	Message string `json:"message"`
}

// startJSON sets up --json: status lines go to stderr and a result is
// filled as the run goes. main defers the returned function, which prints
// the result (also for a failure; not for help or --version).
func (a *app) startJSON() func(*error) {
	a.status = a.stderr
	a.result = clijson.NewResult()
	a.clock = clijson.NewClock(a.now)
	return func(errp *error) {
		if !errors.Is(*errp, errHelp) {
			a.result.End(a.clock, errp, a.stdout)
		}
	}
}

// newProgress is the run's progress: status lines on a.status, and on
// stderr the text progress or, with --json-events, JSON lines.
func (a *app) newProgress(j *job) *progress {
	p := newProgress(a.status, a.stderr, a.terminal && !j.o.jsonEvents)
	if j.o.jsonEvents {
		p.events = clijson.NewEvents(a.stderr, a.now)
		p.HideSteps()
	}
	p.clock = a.clock
	return p
}

// buildOptions are the pipeline's options for a job, shared by the build
// and --check so that both check the same.
func (a *app) buildOptions(j *job, src build.Source, outputDir string, prog *progress) build.Options {
	return build.Options{
		Source:            src,
		Patches:           j.o.patches,
		Name:              j.name,
		OutputDir:         outputDir,
		NoReplace:         j.noReplace,
		Description:       j.description,
		Jobs:              j.o.jobs,
		SkipCompilerCheck: j.o.skipCompilerCheck,
		Fuzz:              j.o.fuzz,
		CacheDir:          filepath.Join(a.cacheDir(j), "objects"),
		Progress:          prog.report,
		Signer:            j.moduleSigner(),
		BuildUser:         j.o.buildUser,
		BuildAsRoot:       j.o.buildAsRoot,
		Toolchain:         j.o.toolchain,
	}
}

// dryRun is --check: the kernel's RPMs are fetched and verified and its
// tree prepared as for a build (both cached, so the build reuses them),
// then build.Check runs every check before compiling. Nothing is built,
// and nothing is written to the output directory. A toolchain root the
// kernel's compiler needs is not provisioned: the check names it, its
// packages and whether it is cached.
func (a *app) dryRun(ctx context.Context, j *job) error {
	prog := a.newProgress(j)
	defer prog.finish()
	fmt.Fprintf(a.status, "Checking livepatch module %s for kernel %s (dry run: nothing is built)\n", j.name, j.kernel)
	src := a.source(j, prog)
	src.DryRun = true
	err := a.prepare(ctx, src)
	prog.finish()
	if err != nil {
		return fail("Couldn't get the kernel source of %s: %w", j.kernel, err)
	}
	plan, err := a.check(ctx, a.buildOptions(j, src, j.output, prog))
	prog.finish()
	if err != nil {
		return fail("Checking livepatch module failed: %w", err)
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(a.stderr, "WARNING: %s\n", w)
	}
	mode := "replaces earlier livepatches"
	if !plan.Replace {
		mode = "non-replace: stacks on earlier livepatches"
	}
	fmt.Fprintf(a.status, "Kernel: %s\nModule: %s (%s)\n", plan.Release, plan.Module, mode)
	if j.o.rpm {
		name, err := a.rpmFileName(j, plan.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.status, "RPM: %s\n", filepath.Join(j.output, name))
	}
	fmt.Fprintf(a.status, "Compiler: %s\nChanged files: %s\nObjects to build: %s\n", plan.Compiler,
		strings.Join(plan.Changed, " "), strings.Join(plan.Objects, " "))
	if tc := plan.Toolchain; tc != nil {
		fmt.Fprintf(a.status, "Toolchain: %s\n", tc)
		for _, p := range tc.Packages {
			fmt.Fprintf(a.status, "  %s %s %s\n", p.Name, p.Version, p.URL)
		}
	}
	if len(plan.FullBuildHeaders) > 0 {
		fmt.Fprintf(a.status, "Headers whose users a full kernel build finds first: %s\n", strings.Join(plan.FullBuildHeaders, " "))
	}
	fmt.Fprintln(a.status, "CHECK PASSED: nothing was built")
	if a.result != nil {
		// Module and RPM stay empty: nothing was written.
		a.result.Check, a.result.Plan = true, plan
		a.result.AddWarnings(plan.Warnings)
	}
	return nil
}

// rpmFileName is the file name --rpm would give the module's package.
func (a *app) rpmFileName(j *job, name string) (string, error) {
	p := rpmpkg.Package{Name: name, Version: j.o.rpmVersion, Release: j.o.rpmRelease, Kernel: j.kernel.String()}
	return p.FileName()
}
