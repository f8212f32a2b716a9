// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/photon"
)

// DevelPackage is the kernel's x86_64 devel RPM (linux-devel,
// linux-aws-devel, ...): the headers tree of the built kernel, with its
// Module.symvers and .config, installed at HeadersDir.
const DevelPackage PackageKind = DebuginfoPackage + 1

// binaryRepoDirs are the binary repositories of release r, in the order
// tried: kernels after a release's GA are published in its updates
// repository, the GA kernels in its release repository.
func binaryRepoDirs(r photon.Release) []string {
	return []string{
		fmt.Sprintf("%s/photon_updates_%s_x86_64", r, r),
		fmt.Sprintf("%s/photon_release_%s_x86_64", r, r),
	}
}

// repoPaths are the repository directories that may hold a package of
// kind p, in the order tried.
func (p PackageKind) repoPaths(r photon.Release) []string {
	if p == DevelPackage {
		return binaryRepoDirs(r)
	}
	return []string{p.RepoPath(r)}
}

// ExtractModuleSymvers takes Module.symvers out of kernel k's devel RPM
// (digests verified as the payload is read) and writes it to dest/Module.symvers.
func ExtractModuleSymvers(ctx context.Context, k photon.Kernel, devel, dest string) (string, error) {
	want := strings.TrimPrefix(k.ModuleSymversPath(), "/")
	tmp, err := os.MkdirTemp(dest, ".devel-")
	if err != nil {
		return "", fmt.Errorf("photon: devel RPM %s: %w", devel, err)
	}
	defer os.RemoveAll(tmp)
	if err := extractRPM(ctx, devel, tmp, func(name string) bool { return name == want }); err != nil {
		return "", fmt.Errorf("photon: devel RPM %s: %w", devel, err)
	}
	p := filepath.Join(tmp, filepath.FromSlash(want))
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("photon: devel RPM %s has no %s", devel, k.ModuleSymversPath())
	}
	out := filepath.Join(dest, "Module.symvers")
	if err := os.Rename(p, out); err != nil {
		return "", fmt.Errorf("photon: devel RPM %s: %w", devel, err)
	}
	return out, nil
}

// ExtractModuleDebug takes the modules' .ko.debug files out of kernel k's
// debuginfo RPM into dest (digests verified as the payload is read) and
// returns the directory holding them, dest + ModuleDebugDir, with n the
// number of files (0 for a kernel without modules).
func ExtractModuleDebug(ctx context.Context, k photon.Kernel, debuginfo, dest string) (dir string, n int, err error) {
	prefix := strings.TrimPrefix(k.ModuleDebugDir(), "/") + "/"
	keep := func(name string) bool { return strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".ko.debug") }
	if err := extractRPM(ctx, debuginfo, dest, keep); err != nil {
		return "", 0, fmt.Errorf("photon: debuginfo RPM %s: %w", debuginfo, err)
	}
	dir = filepath.Join(dest, filepath.FromSlash(prefix))
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", 0, fmt.Errorf("photon: %w", err)
	}
	return dir, n, nil
}
