// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// fetchDevel returns the kernel's devel RPM from the repository, or ""
// when ModuleSymvers is given (it overrides the package) or the
// repository has none (ErrPackageNotFound: the full build then stands in).
// Any other failure (a checksum or signature that does not match, an
// unreachable host) is returned: a package that exists but cannot be
// trusted must not silently turn into hours of building.
func (s *Source) fetchDevel(ctx context.Context) (string, error) {
	if s.ModuleSymvers != "" {
		return "", nil
	}
	k := s.Kernel
	s.progress(StepFetch, "fetching "+kernelsrc.DevelPackage.FileName(k))
	p, err := s.Repo.Fetch(ctx, k, kernelsrc.DevelPackage)
	if errors.Is(err, kernelsrc.ErrPackageNotFound) {
		s.log().Info("no devel RPM", "err", err)
		return "", nil
	}
	return p, err
}

// develSymvers extracts the devel RPM's Module.symvers into the prepared
// kernel's directory.
func (s *Source) develSymvers(ctx context.Context, devel, dir string) (string, error) {
	dest := filepath.Join(dir, "devel")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", fmt.Errorf("photonsource: %w", err)
	}
	return kernelsrc.ExtractModuleSymvers(ctx, s.Kernel, devel, dest)
}

// fullBuildCoreHours is what one full build of a distribution kernel
// configuration costs: Debian 6.1's took about 4.2 hours on 2 cores
// (measured on the lab machine); Photon's generic configuration is of the
// same order.
const fullBuildCoreHours = 8.4

// smallConfigOptions: a configuration with fewer options set is a small
// one (the Photon lab's allnoconfig-based kernel has a few hundred and
// builds in about 5 minutes on 2 cores).
const smallConfigOptions = 1500

// warnFullBuild says that the kernel will be built in full, roughly how
// long that takes, and how to avoid it.
func (s *Source) warnFullBuild(config string) {
	k := s.Kernel
	jobs := s.jobs()
	estimate := fmt.Sprintf("a distribution configuration takes about %.1f hours with %d jobs", fullBuildCoreHours/float64(jobs), jobs)
	if n := optionsSet(config); n > 0 && n < smallConfigOptions {
		estimate = fmt.Sprintf("this configuration sets %d options, a small kernel: minutes; %s", n, estimate)
	}
	msg := fmt.Sprintf("no %s for %s in the repositories: building the whole kernel once (make vmlinux modules) for its Module.symvers; %s. "+
		"To avoid it, publish %s beside the source and debuginfo RPMs (Photon's %s repository), "+
		"or give the Module.symvers it installs (%s) as ModuleSymvers (auto_livepatch --symvers)",
		kernelsrc.DevelPackage, k, estimate, kernelsrc.DevelPackage.FileName(k), kernelsrc.DevelPackage.RepoPath(k.Release()), k.ModuleSymversPath())
	s.log().Warn(msg)
	if s.Warn != nil {
		s.Warn(msg)
	}
}

// optionsSet counts the options a .config sets (=y, =m or a value); 0
// when it cannot be read.
func optionsSet(config string) int {
	f, err := os.Open(config)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "CONFIG_") {
			n++
		}
	}
	return n
}

// ModuleDebugDir extracts the modules' debug files (.ko.debug) from the
// kernel's debuginfo RPM, once per prepared kernel, and returns their
// directory (build.Capabilities.ModuleDebugDir): build.Run asks for it when a
// header changes in a kernel with modules, to find the header's users
// among the modules' units without a full build. A debuginfo RPM without
// module debug files yields an empty directory.
func (s *Source) ModuleDebugDir(ctx context.Context) (string, error) {
	if s.tree == "" {
		return "", errors.New("photonsource: ModuleDebugDir before Tree")
	}
	final := filepath.Join(s.dir, "debug-modules")
	dir := filepath.Join(final, filepath.FromSlash(s.Kernel.ModuleDebugDir()))
	if _, err := os.Stat(final); err == nil {
		return dir, nil
	}
	s.progress(StepPrepare, "extracting the modules' debug information from "+kernelsrc.DebuginfoPackage.FileName(s.Kernel))
	tmp, err := os.MkdirTemp(s.dir, ".debug-modules-")
	if err != nil {
		return "", fmt.Errorf("photonsource: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, _, err := kernelsrc.ExtractModuleDebug(ctx, s.Kernel, s.debuginfo, tmp); err != nil {
		return "", err
	}
	// Another run's result at final (even an empty directory) is kept.
	if err := atomicfile.RenameNoReplace(tmp, final); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(final); serr != nil { // not another run's result
			return "", fmt.Errorf("photonsource: %w", err)
		}
	}
	return dir, nil
}
