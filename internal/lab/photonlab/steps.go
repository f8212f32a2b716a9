// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/photon"
)

func (p *preparer) tarballPath() string {
	return filepath.Join(p.l.Dir, "SOURCES", "linux-"+p.l.Version+".tar.xz")
}

// tarball repacks Debian's pristine source tarball as linux-<version>.tar.xz.
func (p *preparer) tarball(ctx context.Context) error {
	src := p.cfg.DebianTarball
	if src == "" {
		dl := filepath.Join(p.l.Dir, "download")
		defer os.RemoveAll(dl)
		os.RemoveAll(dl)
		p.log.Info("downloading Debian source", "package", p.deb.pkg()+"="+p.deb.Version)
		var err error
		if src, err = p.fetchSource(ctx, dl); err != nil {
			return err
		}
	}
	start := time.Now()
	p.log.Info("repacking source tarball", "from", filepath.Base(src), "to", filepath.Base(p.tarballPath()))
	version, err := repackTarball(ctx, src, p.tarballPath(), p.deb.topDir(), "linux-"+p.l.Version, p.cfg.Jobs)
	if err != nil {
		return err
	}
	if version != p.l.Version {
		os.Remove(p.tarballPath())
		return fmt.Errorf("%w: %s's Makefile says %s, Debian's version %s says %s", ErrBadTarball, src, version, p.deb.Version, p.l.Version)
	}
	fi, _ := os.Stat(p.tarballPath())
	p.log.Info("source tarball ready", "size_mb", fi.Size()>>20, "took", time.Since(start).Round(time.Second))
	return nil
}

// tree unpacks the tarball and applies the patches in the spec's order:
// the tree the kernels are built from is what the source RPM's %prep makes.
func (p *preparer) tree(ctx context.Context) error {
	src := filepath.Dir(p.l.Tree)
	partial := src + ".partial"
	for _, d := range []string{partial, src} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return err
	}
	p.log.Info("unpacking source tree", "tarball", filepath.Base(p.tarballPath()))
	if err := p.run.run(ctx, partial, nil, "tar", "-xf", p.tarballPath(), "--no-same-owner"); err != nil {
		return err
	}
	tree := filepath.Join(partial, filepath.Base(p.l.Tree))
	for _, pt := range p.patches {
		p.log.Info("applying patch", "patch", fmt.Sprintf("Patch%d", pt.Number), "file", pt.File)
		if err := applyPatch(ctx, p.run, tree, pt.Path); err != nil {
			return err
		}
	}
	return os.Rename(partial, src)
}

// applyPatch applies a patch as rpmbuild's %autopatch -p1 does (GNU patch,
// fuzz 0, no backup files).
func applyPatch(ctx context.Context, r *runner, tree, file string) error {
	return r.run(ctx, tree, nil, "patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch", "--batch", "--forward", "-s", "-i", file)
}

// config makes the flavor's config file (config_x86_64, config-aws) and its
// build's .config (the same with CONFIG_LOCALVERSION set, as the spec's sed
// does). An unchanged .config is left alone so that kbuild does not
// rebuild. (A flavor other than generic is then built from generic's
// objects: see borrowGenericBuild.)
func (p *preparer) config(ctx context.Context, fb flavorBuild) error {
	p.log.Info("making config", "uname", fb.k.String(), "base", "allnoconfig", "fragments", fb.fragments)
	work := fb.fk.BuildDir + ".config-work"
	defer os.RemoveAll(work)
	config, err := makeConfig(ctx, p.run, p.kb, p.l.Tree, work, fb.fragments...)
	if err != nil {
		return err
	}
	name, err := fb.k.ConfigFile()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.l.Dir, "SOURCES", name), config); err != nil {
		return err
	}
	build, err := setLocalVersion(config, fb.k.LocalVersion())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(fb.fk.BuildDir, 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(fb.fk.Config); err == nil && string(old) == string(build) {
		return nil
	}
	return writeFileAtomic(fb.fk.Config, build)
}

// build compiles a flavor's kernel out of tree and checks its release string.
func (p *preparer) build(ctx context.Context, fb flavorBuild) error {
	start := time.Now()
	logName := filepath.Join(p.l.Dir, "build-"+fb.k.String()+".log")
	p.log.Info("building kernel", "uname", fb.k.String(), "jobs", p.cfg.Jobs, "log", logName)
	logFile, err := os.Create(logName)
	if err != nil {
		return err
	}
	defer logFile.Close()
	progress := &lineCounter{n: 250, each: func(lines int) {
		p.log.Info("building kernel", "uname", fb.k.String(), "make_lines", lines, "elapsed", time.Since(start).Round(time.Second))
	}}
	objDir, handOver := fb.fk.BuildDir, func() error { return nil }
	if fb.k.Flavor != photon.Generic {
		if objDir, handOver, err = p.borrowGenericBuild(ctx, fb); err != nil {
			return err
		}
		// A failed build gives generic its directory back at once (a
		// no-op after the hand-over); should that fail, the next Prepare
		// retries it first.
		defer restoreGenericBuild(p.l.BuildDir)
	}
	if fb.fk.SigningCert != "" {
		// The config names the certificate inside the tree, where the
		// source RPM's %prep copies it. The lab's tree is both flavors'
		// and stays as the tarball and patches make it: the copy goes to
		// the build directory, where make finds it first (O=).
		cert, err := os.ReadFile(fb.fk.SigningCert)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(objDir, "certs"), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(objDir, "certs", TrustedCertSource), cert); err != nil {
			return err
		}
	}
	if err := p.ensureBuildKey(fb, objDir); err != nil {
		return err
	}
	args := []string{"O=" + objDir}
	if err := p.kb.make(ctx, p.l.Tree, io.MultiWriter(logFile, progress), append(args, fmt.Sprintf("-j%d", p.cfg.Jobs), "all")...); err != nil {
		return err
	}
	got, err := kbuildOutput(ctx, p.kb, p.l.Tree, append(args, "-s", "kernelrelease")...)
	if err != nil {
		return err
	}
	if got = strings.TrimSpace(got); got != fb.k.String() {
		return fmt.Errorf("the kernel built as release %q, want %q", got, fb.k.String())
	}
	if err := handOver(); err != nil {
		return err
	}
	for _, f := range []string{fb.fk.Vmlinuz, fb.fk.Vmlinux, fb.fk.ModuleSymvers} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("make all finished without %w", err)
		}
	}
	p.log.Info("kernel built", "uname", got, "took", time.Since(start).Round(time.Second))
	return nil
}
