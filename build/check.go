// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Plan is what Run would build, as Check works it out.
type Plan struct {
	// Release is the target kernel's uname -r.
	Release string `json:"release"`
	// Name is the module name; Module the path Run would write.
	Name   string `json:"name"`
	Module string `json:"module"`
	// Compiler identifies the compiler the objects would be built with.
	Compiler string `json:"compiler"`
	// Replace: the module would atomically replace earlier livepatches
	// (Options.NoReplace false).
	Replace bool `json:"replace"`
	// Changed are the tree paths the patches change, in patch order.
	Changed []string `json:"changed"`
	// Objects are the tree-relative objects Run would compile, original
	// and patched.
	Objects []string `json:"objects"`
	// FullBuildHeaders are changed headers of a tree not fully built whose
	// Source can build in full (Capabilities.BuildAll): Run builds the
	// kernel in full first and adds every object that includes them to
	// Objects.
	FullBuildHeaders []string `json:"full_build_headers"`
	// Warnings are conditions that would not stop the build.
	Warnings []string `json:"warnings"`
	// Toolchain is the toolchain root ToolchainAuto chose because the
	// host's compiler is not the kernel's: its packages, where they come
	// from, its directory and whether the cache holds it. nil when the
	// build runs on the host or in a root given (ToolchainRoot).
	Toolchain *ToolchainPlan `json:"toolchain,omitempty"`
}

// Check runs every check Run makes before it compiles anything, with the
// same errors: the options, the kernel's support for livepatches, its
// config and unsafe options, the compiler, the patches' validation, and
// their application, which is tried in a scratch overlay under the work
// directory (the tree is not modified). It compiles, links and writes
// nothing: the output directory is only checked. Run goes through the same
// code, so a Check that passes fails Run only from compiling onwards.
//
// Check downloads no toolchain package and provisions no root: when
// ToolchainAuto needs a root of the kernel's compiler, Check resolves its
// packages from the repositories' metadata and reports it
// (Plan.Toolchain). A root the cache holds is used for the compiler
// check, as Run would; for one it lacks, Plan.Compiler is the kernel's
// compiler the root would provide, and Run checks it once provisioned.
//
// The Source's Tree method is called, so a Source that fetches or prepares
// a kernel does that work; a Source's BuildAll is never called (see
// Plan.FullBuildHeaders).
func Check(ctx context.Context, opts Options) (*Plan, error) {
	r, err := newRun(ctx, opts)
	if err != nil {
		return nil, err
	}
	r.dryRun = true
	defer r.cleanup()
	for _, step := range []func(context.Context) error{r.check, r.patch} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	p := &Plan{
		Release:          r.tree.Release,
		Name:             r.name,
		Module:           filepath.Join(r.opts.OutputDir, r.name+".ko"),
		Compiler:         r.cc,
		Replace:          !r.opts.NoReplace,
		Changed:          append([]string{}, r.ov.changed...),
		Objects:          []string{},
		FullBuildHeaders: append([]string{}, r.headersNeedFullBuild...),
		Warnings:         append([]string{}, r.res.Warnings...),
		Toolchain:        r.toolchainPlan,
	}
	for _, u := range r.objs {
		p.Objects = append(p.Objects, u.obj)
	}
	return p, nil
}

// checkOutputDir refuses an output directory that is not given or that
// exists as something else, before anything is built.
func checkOutputDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("%w: Options.OutputDir is required", ErrBadOptions)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil // Run creates it
	case err != nil:
		return fmt.Errorf("output directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: output directory %s is not a directory", ErrBadOptions, dir)
	}
	return nil
}

// splitHeaders separates the changed headers from the other changed files.
func splitHeaders(changed []string) (other, headers []string) {
	for _, rel := range changed {
		if isHeader(rel) {
			headers = append(headers, rel)
		} else {
			other = append(other, rel)
		}
	}
	return other, headers
}
