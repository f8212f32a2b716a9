// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// The lab publishes Config.Packages, klpkit's own RPMs (make rpms), in
// the updates repository of its Photon release, beside the kernels' devel
// RPMs, where Photon publishes kpatch: `tdnf install kpatch` against the
// lab resolves klpkit's kpatch package there. A step of its own after the
// repository's: a new commit's packages re-index one directory and leave
// the kernel packages alone.

// updatesDir is the lab release's updates repository (relative to RepoDir).
func (p *preparer) updatesDir() string {
	return kernelsrc.DevelPackage.RepoPath(p.flavors[0].k.Release())
}

// ownPackagePaths are where Config.Packages go: <updates>/<arch>/<file>,
// the arch taken from the file name (NAME-VERSION-RELEASE.ARCH.rpm); the
// step checks it against the header.
func (p *preparer) ownPackagePaths() ([]string, error) {
	var out []string
	for _, f := range p.cfg.Packages {
		base := filepath.Base(f)
		arch := strings.TrimPrefix(path.Ext(strings.TrimSuffix(base, ".rpm")), ".")
		if !strings.HasSuffix(base, ".rpm") || (arch != "x86_64" && arch != "noarch") {
			return nil, fmt.Errorf("photonlab: package %s: not NAME-VERSION-RELEASE.{x86_64,noarch}.rpm", f)
		}
		out = append(out, filepath.Join(p.l.RepoDir, p.updatesDir(), arch, base))
	}
	return out, nil
}

// ownPackages replaces the packages an earlier run published with
// Config.Packages and re-indexes the updates repository. Each must be a
// binary package for the lab's Photon release (its release ends in the
// dist tag, .ph5) whose header matches its file name.
func (p *preparer) ownPackages(ctx context.Context) error {
	start := time.Now()
	dir := filepath.Join(p.l.RepoDir, p.updatesDir())
	var kernels []string
	for _, fb := range p.flavors {
		kernels = append(kernels, filepath.Join(dir, filepath.FromSlash(kernelsrc.DevelPackage.PackagePath(fb.k))))
	}
	old, err := filepath.Glob(filepath.Join(dir, "*", "*.rpm"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if !slices.Contains(kernels, f) {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	dist := p.flavors[0].k.Release().DistTag()
	dsts, err := p.ownPackagePaths()
	if err != nil {
		return err
	}
	var newest time.Time
	for i, src := range p.cfg.Packages {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("package: %w", err)
		}
		info, err := rpmpkg.Read(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("package %s: %w", src, err)
		}
		if want := fmt.Sprintf("%s-%s-%s.%s.rpm", info.Name, info.Version, info.Release, info.Arch); info.Source || want != filepath.Base(src) {
			return fmt.Errorf("photonlab: package %s: its header says %s (source package: %v)", src, want, info.Source)
		}
		if !strings.HasSuffix(info.Release, dist) {
			return fmt.Errorf("photonlab: package %s is not for Photon %s: release %s lacks %s", src, p.flavors[0].k.Release(), info.Release, dist)
		}
		if err := os.MkdirAll(filepath.Dir(dsts[i]), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(dsts[i], data); err != nil {
			return err
		}
		if info.BuildTime.After(newest) {
			newest = info.BuildTime
		}
		p.log.Info("published package", "file", filepath.Base(src), "repository", p.updatesDir())
	}
	// The repository's revision follows its newest package: the repository
	// step dates the kernel packages by their vmlinux.
	for _, fb := range p.flavors {
		if fi, err := os.Stat(fb.fk.Vmlinux); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	if err := writeRepodata(dir, newest.UTC().Truncate(time.Second)); err != nil {
		return err
	}
	p.log.Info("updates repository indexed", "packages", len(p.cfg.Packages)+len(kernels), "took", time.Since(start).Round(time.Millisecond))
	return nil
}
