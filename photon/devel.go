// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DevelPackage is the kernel's x86_64 devel RPM (linux-devel,
// linux-aws-devel, ...): the headers tree of the built kernel, with its
// Module.symvers and .config, installed at HeadersDir.
const DevelPackage PackageKind = DebuginfoPackage + 1

// DevelRPM is the file name of the kernel's x86_64 devel RPM, e.g.
// linux-aws-devel-6.1.10-11.ph5.x86_64.rpm.
func (k Kernel) DevelRPM() string {
	return fmt.Sprintf("%s-devel-%s-%s.x86_64.rpm", k.Package(), k.Version, k.RPMRelease())
}

// HeadersDir is where the devel RPM installs the kernel's build tree:
// /usr/src/linux-headers-<uname -r> (/lib/modules/<uname -r>/build points
// there).
func (k Kernel) HeadersDir() string { return "/usr/src/linux-headers-" + k.String() }

// ModuleSymversPath is the devel RPM's Module.symvers.
func (k Kernel) ModuleSymversPath() string { return k.HeadersDir() + "/Module.symvers" }

// binaryRepoDirs are the binary repositories of release r, in the order
// tried: kernels after a release's GA are published in its updates
// repository, the GA kernels in its release repository.
func binaryRepoDirs(r Release) []string {
	return []string{
		fmt.Sprintf("%s/photon_updates_%s_x86_64", r, r),
		fmt.Sprintf("%s/photon_release_%s_x86_64", r, r),
	}
}

// repoPaths are the repository directories that may hold a package of
// kind p, in the order tried.
func (p PackageKind) repoPaths(r Release) []string {
	if p == DevelPackage {
		return binaryRepoDirs(r)
	}
	return []string{p.RepoPath(r)}
}

// ExtractModuleSymvers takes Module.symvers out of kernel k's devel RPM
// (digests verified as the payload is read) and writes it to dest/Module.symvers.
func ExtractModuleSymvers(ctx context.Context, k Kernel, devel, dest string) (string, error) {
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

// ModuleDebugDir is where the debuginfo RPM installs the modules' debug
// files (kernel/**/<module>.ko.debug): /usr/lib/debug/lib/modules/<uname -r>.
func (k Kernel) ModuleDebugDir() string { return path.Dir(k.VmlinuxPath()) }

// ExtractModuleDebug takes the modules' .ko.debug files out of kernel k's
// debuginfo RPM into dest (digests verified as the payload is read) and
// returns the directory holding them, dest + ModuleDebugDir, with n the
// number of files (0 for a kernel without modules).
func ExtractModuleDebug(ctx context.Context, k Kernel, debuginfo, dest string) (dir string, n int, err error) {
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
