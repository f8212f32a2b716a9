// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
)

// ErrNoToolchainRepo: the kernel's compiler must be provisioned, and the
// source's repository is a local directory or explicit files, which hold
// no toolchain RPMs.
var ErrNoToolchainRepo = errors.New("photonsource: no repository URL to provision the kernel's toolchain from")

// provideToolchain is Capabilities.Toolchain: the kernel's gcc, binutils,
// glibc-devel and make with what they require, from the repositories
// (Repo.BaseURLs, else Photon's public hosts) of the kernel's release,
// checked against Repo.SigningKeys when set, in a root under
// cacheDir/photon. build.Run's auto mode calls it when the host's
// compiler is not the kernel's.
func (s *Source) provideToolchain(ctx context.Context, compiler, cacheDir string) (*toolchain.Root, error) {
	p, err := s.provisioner(cacheDir)
	if err != nil {
		return nil, err
	}
	root, err := p.ProvisionFor(ctx, compiler)
	if err != nil {
		return nil, fmt.Errorf("photonsource: the toolchain of kernel %s: %w", s.Kernel, err)
	}
	return root, nil
}

// planToolchain is Capabilities.ToolchainPlan: the root provideToolchain
// would return, from the repositories' metadata, without downloading a
// package or building it (build.Check).
func (s *Source) planToolchain(ctx context.Context, compiler, cacheDir string) (*build.ToolchainPlan, error) {
	planned, err := s.lookupToolchain(ctx, compiler, cacheDir)
	if err != nil {
		return nil, err
	}
	from := fmt.Sprintf("Photon %s repositories %s", s.Kernel.Release(), strings.Join(planned.Repos, ", "))
	return build.NewToolchainPlan(compiler, from, planned.Dir, planned.Cached, planned.List), nil
}

// lookupToolchain resolves the root provideToolchain would return and
// whether the cache holds it.
func (s *Source) lookupToolchain(ctx context.Context, compiler, cacheDir string) (*photontoolchain.Planned, error) {
	p, err := s.provisioner(cacheDir)
	if err != nil {
		return nil, err
	}
	planned, err := p.Lookup(ctx, compiler)
	if err != nil {
		return nil, fmt.Errorf("photonsource: the toolchain of kernel %s: %w", s.Kernel, err)
	}
	return planned, nil
}

// provisioner provisions the kernel's toolchain into roots under
// cacheDir/photon.
func (s *Source) provisioner(cacheDir string) (*photontoolchain.Provisioner, error) {
	if s.Repo == nil {
		return nil, ErrNoRepo
	}
	if s.Repo.Dir != "" && len(s.Repo.BaseURLs) == 0 {
		return nil, fmt.Errorf("%w: the repository is the directory %s (offline)", ErrNoToolchainRepo, s.Repo.Dir)
	}
	p := &photontoolchain.Provisioner{
		Release:     s.Kernel.Release(),
		BaseURLs:    s.Repo.BaseURLs,
		SigningKeys: s.Repo.SigningKeys,
		CacheDir:    filepath.Join(cacheDir, "photon"),
		Log:         s.Logger,
	}
	if s.Repo.Download != nil {
		p.Client = s.Repo.Download.Client
	}
	return p, nil
}
