// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// config is what the agent is asked to do on this host.
type config struct {
	// Release is the kernel to assess; "" = the running kernel.
	Release string
	// Tree and Patches, when given, plan a livepatch build for the kernel
	// (build.Check: every check before compiling; nothing is built).
	Tree    build.Tree
	Patches []string
	// SkipCompilerCheck passes build.Options.SkipCompilerCheck on.
	SkipCompilerCheck bool
	// Module, when given, is packaged as an RPM into OutputDir.
	Module string
	// OutputDir receives the RPM and is where a planned build would write
	// its module.
	OutputDir string
}

// report is what the agent sends home, as JSON. The library values in it
// marshal as their packages define.
type report struct {
	Kernel        string `json:"kernel"`
	Livepatchable bool   `json:"livepatchable"`
	// Reason is the support matrix's reason code when the kernel cannot
	// take livepatches (photon.SupportReason), "unparsable" when the release
	// is no Photon kernel's; Refusal says it in words.
	Reason  string `json:"reason,omitempty"`
	Refusal string `json:"refusal,omitempty"`
	// Loaded are the livepatches in the kernel now.
	Loaded []kmod.Livepatch `json:"loaded"`
	// Plan is what a build of the patches would do; PlanError why it
	// could not be done.
	Plan      *build.Plan `json:"plan,omitempty"`
	PlanError string      `json:"plan_error,omitempty"`
	// RPM is the package written for Module.
	RPM string `json:"rpm,omitempty"`
}

// assess fills r for the host sys: the kernel, its support, what is
// loaded, and then the planned build and the package asked for. A refusal
// the fleet should hear about is in the report; an error is returned only
// when the agent could not look at all.
func assess(ctx context.Context, sys *kmod.System, cfg config) (*report, error) {
	r := &report{Kernel: cfg.Release, Loaded: []kmod.Livepatch{}}
	if r.Kernel == "" {
		rel, err := sys.Release()
		if err != nil {
			return nil, fmt.Errorf("running kernel: %w", err)
		}
		r.Kernel = rel
	}
	listing, err := sys.List()
	if err != nil {
		return nil, fmt.Errorf("loaded livepatches: %w", err)
	}
	r.Loaded = listing.Loaded

	k, err := photon.ParseKernel(r.Kernel)
	if err != nil {
		r.Reason, r.Refusal = "unparsable", err.Error()
		return r, nil
	}
	if err := k.Livepatchable(); err != nil {
		var se *photon.SupportError
		if !errors.As(err, &se) {
			return nil, err
		}
		r.Reason, r.Refusal = string(se.Reason), se.Error()
		return r, nil
	}
	r.Livepatchable = true

	if cfg.Tree.Dir != "" && len(cfg.Patches) > 0 {
		tree := cfg.Tree
		tree.Release = k.String()
		plan, err := build.Check(ctx, build.Options{Source: &tree, Patches: cfg.Patches,
			OutputDir: cfg.OutputDir, SkipCompilerCheck: cfg.SkipCompilerCheck})
		if err != nil {
			r.PlanError = err.Error()
		} else {
			r.Plan = plan
		}
	}
	if cfg.Module != "" {
		if r.RPM, err = packageModule(cfg.Module, k, cfg.OutputDir); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// packageModule writes the module's RPM into dir through a temporary file
// and returns its path. rpmpkg.Build refuses anything but a livepatch
// module for kernel k and takes the module's own name.
func packageModule(ko string, k photon.Kernel, dir string) (string, error) {
	name := filepath.Base(ko)
	name = name[:len(name)-len(filepath.Ext(name))]
	p := rpmpkg.Package{Name: name, Kernel: k.String(), ModulePath: ko}
	file, err := p.FileName()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, file+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := rpmpkg.Build(f, p); err != nil {
		f.Close()
		return "", fmt.Errorf("packaging %s: %w", ko, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(dir, file)
	return path, os.Rename(f.Name(), path)
}
