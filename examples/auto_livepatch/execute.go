// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/rpmpkg"
)

// execute fetches, prepares, builds and packages. Outputs are made in a
// staging directory inside the output directory and renamed into place
// only when everything succeeded.
func (a *app) execute(ctx context.Context, j *job) (err error) {
	_, statErr := os.Stat(j.output)
	if err := os.MkdirAll(j.output, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if statErr != nil {
		// Made here: leave nothing behind on failure.
		defer func() {
			if err != nil {
				os.Remove(j.output)
			}
		}()
	}
	staging, err := os.MkdirTemp(j.output, ".auto_livepatch-")
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	defer os.RemoveAll(staging)

	prog := a.newProgress(j)
	defer prog.finish()
	fmt.Fprintf(a.status, "Building livepatch module %s for kernel %s\n", j.name, j.kernel)
	src := a.source(j, prog)
	err = a.prepare(ctx, src)
	prog.finish()
	if err != nil {
		return fail("Couldn't get the kernel source of %s: %w", j.kernel, err)
	}
	opts := a.buildOptions(j, src, staging, prog)
	opts.DebugDir, opts.KeepWork = j.debugDir, j.debugDir != ""
	if j.debugDir != "" {
		// Debug files of an earlier run would mislead: start afresh
		// (auto_livepatch.sh meant to, but its cleanup step is dead code).
		if err := os.RemoveAll(j.debugDir); err != nil {
			return err
		}
		opts.WorkDir = filepath.Join(j.debugDir, "kpatch-tmp")
	}
	res, err := a.build(ctx, opts)
	prog.finish()
	if err != nil {
		if j.debugDir != "" {
			fmt.Fprintf(a.stderr, "Debug files are in %s\n", j.debugDir)
		}
		return fail("Building livepatch module failed: %w", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "WARNING: %s\n", w)
	}
	outputs := []string{res.Module}
	if j.o.rpm {
		rpmFile, err := a.packageRPM(j, res, staging)
		if err != nil {
			return fail("Packaging kernel module as rpm failed: %w", err)
		}
		outputs = append(outputs, rpmFile)
	}
	final, replaced, err := publish(outputs, j.output, staging)
	if err != nil {
		return err
	}
	for _, r := range replaced {
		fmt.Fprintf(a.stderr, "WARNING: replaced the earlier %s\n", r)
		if a.result != nil {
			a.result.AddWarnings([]string{"replaced the earlier " + r})
		}
	}
	fmt.Fprintf(a.status, "SUCCESS\nLivepatch module: %s\n", final[0])
	if j.o.rpm {
		fmt.Fprintf(a.status, "Livepatch RPM: %s\n", final[1])
	}
	if j.debugDir != "" {
		fmt.Fprintf(a.status, "Debug files: %s\n", j.debugDir)
	}
	if a.result != nil {
		if err := a.result.AddBuild(res); err != nil {
			return err
		}
		a.result.Module = final[0]
		if j.o.rpm {
			a.result.RPM = final[1]
		}
	}
	return nil
}

func (a *app) cacheDir(j *job) string {
	if j.o.cache != "" {
		return j.o.cache
	}
	return filepath.Join(a.root, defaultCache)
}

// packageRPM writes the module's RPM into dir and returns its path.
func (a *app) packageRPM(j *job, res *build.Result, dir string) (string, error) {
	desc := j.rpmDesc
	if desc == "" {
		desc = j.description
	}
	if desc == "" {
		desc = "Livepatch module for Linux " + j.kernel.String()
	}
	p := rpmpkg.Package{
		Name: res.Name, Version: j.o.rpmVersion, Release: j.o.rpmRelease,
		Kernel: j.kernel.String(), ModulePath: res.Module, Description: desc,
	}
	if epoch := a.getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		t, err := rpmpkg.ParseSourceDateEpoch(epoch)
		if err != nil {
			return "", err
		}
		p.BuildTime = t
	} else {
		p.BuildTime = time.Now()
	}
	signer, err := j.rpmSigner(p.BuildTime)
	if err != nil {
		return "", err
	}
	p.Signer = signer
	name, err := p.FileName()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, atomicfile.Copy(path, 0o644, func(w io.Writer) error { return rpmpkg.Build(w, p) })
}
