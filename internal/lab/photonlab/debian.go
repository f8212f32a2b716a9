// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// debianSource names Debian's kernel source package of a lab kernel.
type debianSource struct {
	Major   string // "6.1": the package is linux-source-6.1
	Version string // Debian version, e.g. 6.1.192-2
}

var debianVersion = regexp.MustCompile(`^(\d+\.\d+)\.\d+-[0-9A-Za-z.+~]+$`)

// parseDebianSource checks a Debian kernel package version.
func parseDebianSource(version string) (debianSource, error) {
	m := debianVersion.FindStringSubmatch(version)
	if m == nil {
		return debianSource{}, fmt.Errorf("photonlab: Debian kernel version %q is not of the form 6.1.192-2", version)
	}
	return debianSource{Major: m[1], Version: version}, nil
}

func (d debianSource) pkg() string    { return "linux-source-" + d.Major }
func (d debianSource) topDir() string { return d.pkg() } // the tarball's top directory

// fetch downloads the source package with apt-get into dir and returns the
// tarball it holds (the pristine Debian tree, Debian's patches included).
func (d debianSource) fetch(ctx context.Context, r *runner, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := r.run(ctx, dir, nil, "apt-get", "download", "-q", d.pkg()+"="+d.Version); err != nil {
		return "", err
	}
	debs, _ := filepath.Glob(filepath.Join(dir, d.pkg()+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: expected one .deb in %s, found %d", d.pkg(), dir, len(debs))
	}
	unpacked := filepath.Join(dir, "deb")
	if err := r.run(ctx, dir, nil, "dpkg-deb", "-x", debs[0], unpacked); err != nil {
		return "", err
	}
	os.Remove(debs[0])
	tarball := filepath.Join(unpacked, "usr/src", d.pkg()+".tar.xz")
	if _, err := os.Stat(tarball); err != nil {
		return "", fmt.Errorf("%s holds no %s: %w", filepath.Base(debs[0]), filepath.Base(tarball), err)
	}
	return tarball, nil
}
