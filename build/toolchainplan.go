// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
)

// ToolchainPlan is the toolchain root ToolchainAuto would build in, as
// Check finds it (Plan.Toolchain). Check provisions no root: one the cache
// lacks is only named, with the packages Run would download into it.
type ToolchainPlan struct {
	// Compiler is the kernel's compiler identification, which the root
	// provides.
	Compiler string `json:"compiler"`
	// From says where the packages come from: repository URLs, or an
	// archive's suites.
	From string `json:"from"`
	// Dir is the root's directory in the cache; Cached reports whether
	// the cache holds it complete (Run then downloads nothing, and Check
	// runs its compiler check in it).
	Dir    string `json:"dir"`
	Cached bool   `json:"cached"`
	// Packages are the root's packages.
	Packages []ToolchainPackage `json:"packages"`
}

// ToolchainPackage is one package of a toolchain root.
type ToolchainPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	URL     string `json:"url"`
	Size    int64  `json:"size"`
}

// NewToolchainPlan describes the root of list for the compiler whose
// identification it provides: from where, at dir, cached or not.
func NewToolchainPlan(compiler, from, dir string, cached bool, list toolchain.List) *ToolchainPlan {
	p := &ToolchainPlan{Compiler: compiler, From: from, Dir: dir, Cached: cached, Packages: []ToolchainPackage{}}
	for _, e := range list {
		p.Packages = append(p.Packages, ToolchainPackage{Name: e.Name, Version: e.Version, Arch: e.Arch, URL: e.URL, Size: e.Size})
	}
	return p
}

// Download is what Run would download to provision the root: nothing
// when it is cached.
func (p *ToolchainPlan) Download() int64 {
	if p.Cached {
		return 0
	}
	var n int64
	for _, e := range p.Packages {
		n += e.Size
	}
	return n
}

// String is the plan in a line.
func (p *ToolchainPlan) String() string {
	state := fmt.Sprintf("not provisioned: %d package(s), %.1f MB to download", len(p.Packages), float64(p.Download())/1e6)
	if p.Cached {
		state = fmt.Sprintf("cached, %d package(s)", len(p.Packages))
	}
	if p.Dir == "" {
		state = "not provisioned"
	}
	s := fmt.Sprintf("toolchain root of %q (%s)", p.Compiler, state)
	if p.Dir != "" {
		s += " at " + p.Dir
	}
	if p.From != "" {
		s += " from " + p.From
	}
	return s
}

// planRoot is a dry run's provisionRoot once the root is named: it keeps
// the plan for Check and returns the root when the cache holds it, nil
// when Run would provision it.
func (r *runner) planRoot(p *ToolchainPlan) *toolchain.Root {
	r.toolchainPlan = p
	r.event(StageCheck, 0, 1, "dry run: %s", p)
	if !p.Cached {
		return nil
	}
	return &toolchain.Root{Dir: p.Dir}
}

// planFromSource is a dry run's root of a source that provides its
// kernel's toolchain (Capabilities.ToolchainPlan); a source that cannot
// say more is planned by the compiler alone.
func (r *runner) planFromSource(ctx context.Context, want, cache string) (*toolchain.Root, error) {
	plan := r.opts.Source.Capabilities().ToolchainPlan
	if plan == nil {
		return r.planRoot(&ToolchainPlan{Compiler: want, From: "the kernel's source", Packages: []ToolchainPackage{}}), nil
	}
	p, err := plan(ctx, want, cache)
	if err != nil {
		return nil, err
	}
	return r.planRoot(p), nil
}

// planDebian is a dry run's Debian root: the resolved list, and whether
// the cache under cache holds its root.
func (r *runner) planDebian(want string, suites []toolchain.Suite, list toolchain.List, cache string) *toolchain.Root {
	c := &toolchain.Cache{Dir: filepath.Join(cache, "roots")}
	_, cached := c.Lookup(list)
	from := make([]string, len(suites))
	for i, s := range suites {
		from[i] = s.Name + " (" + s.URL + ")"
	}
	return r.planRoot(NewToolchainPlan(want, "Debian "+strings.Join(from, ", "), c.RootDir(list), cached, list))
}

// unprovisioned reports a dry run whose root the cache lacks: the
// compiler check waits for Run, which provisions it.
func (r *runner) unprovisioned() bool { return r.toolchainPlan != nil && r.root == nil }
