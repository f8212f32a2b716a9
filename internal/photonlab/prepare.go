package photonlab

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/photon"
)

// Config says what to prepare. LabDir and Assets are required; the rest
// has defaults.
type Config struct {
	// LabDir is package lab's directory; the Photon lab lives in
	// LabDir/photon/<uname>. The Debian lab must be prepared there (its
	// kernel version picks the source).
	LabDir string
	// Assets holds linux.spec.in, config-fragment and patches/: the
	// repository's testdata/photonlab.
	Assets string
	// Release is the RPM release number of the lab kernel; default "1".
	Release string
	// DebianTarball is Debian's linux-source tarball to repack; default:
	// downloaded with apt-get at the Debian lab kernel's version.
	DebianTarball string
	// Jobs is make's -j and xz's threads; default the CPU count.
	Jobs int
	// Logger receives one Info line per step and build progress. Default: discard.
	Logger *slog.Logger
}

// Marker files, written last by each step. A marker holds the digest of the
// step's inputs, so changed assets redo the steps they feed.
const (
	markTarball = ".done-tarball"
	markTree    = ".done-tree"
	markConfig  = ".done-config"
	markBuild   = ".done-build"
	markRepo    = ".done-repo"
)

// Prepare builds the Photon lab in cfg.LabDir (see the package doc) and
// returns it. It is idempotent and restartable: finished steps are
// skipped, interrupted ones redone. The first run downloads Debian's
// source package and builds the kernel (minutes); later runs take seconds.
func Prepare(ctx context.Context, cfg Config) (*Lab, error) {
	if cfg.LabDir == "" || cfg.Assets == "" {
		return nil, errors.New("photonlab: Config.LabDir and Config.Assets are required")
	}
	// Commands run in other directories: make the asset paths absolute.
	assets, err := filepath.Abs(cfg.Assets)
	if err != nil {
		return nil, err
	}
	cfg.Assets = assets
	return newPreparer(cfg).prepare(ctx)
}

func newPreparer(cfg Config) *preparer {
	p := &preparer{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.cfg.Release == "" {
		p.cfg.Release = "1"
	}
	if p.cfg.Jobs <= 0 {
		p.cfg.Jobs = runtime.NumCPU()
	}
	p.run = &runner{log: p.log, env: []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}}
	return p
}

type preparer struct {
	cfg     Config
	log     *slog.Logger
	run     *runner
	deb     debianSource
	k       photon.Kernel
	l       *Lab
	patches []Patch
	digest  string // of the assets and versions: the markers' content
	worked  bool
}

func (p *preparer) prepare(ctx context.Context) (*Lab, error) {
	start := time.Now()
	debLab, err := lab.Open(p.cfg.LabDir)
	if err != nil {
		return nil, fmt.Errorf("photonlab: the Debian lab comes first: %w", err)
	}
	if err := p.setup(debLab.Version); err != nil {
		return nil, err
	}
	dir, uname := p.l.Dir, p.l.KernelRelease
	p.log.Info("photon lab kernel", "uname", uname, "debian", p.deb.Version, "dir", dir)
	steps := []struct {
		marker string
		do     func(context.Context) error
	}{
		{markTarball, p.tarball}, {markTree, p.tree}, {markConfig, p.config}, {markBuild, p.build}, {markRepo, p.repo},
	}
	for i, s := range steps {
		if p.done(s.marker) {
			continue
		}
		// Redoing a step invalidates the steps after it and the manifest.
		later := []string{manifestName}
		for _, s := range steps[i+1:] {
			later = append(later, s.marker)
		}
		for _, later := range later {
			if err := os.Remove(filepath.Join(dir, later)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
		if err := s.do(ctx); err != nil {
			return nil, fmt.Errorf("photonlab %s: %w", uname, err)
		}
		if err := p.mark(s.marker); err != nil {
			return nil, err
		}
	}
	if err := p.l.writeManifest(); err != nil {
		return nil, fmt.Errorf("photonlab: %w", err)
	}
	if p.worked {
		p.log.Info("photon lab ready", "uname", uname, "took", time.Since(start).Round(time.Second))
	} else {
		p.log.Info("photon lab ready, nothing to do", "uname", uname)
	}
	return OpenDir(dir)
}

// inputDigest hashes what the steps are made from: the Debian version, the
// release and every asset file.
// setup works out the lab kernel and its paths from the Debian lab
// kernel's package version.
func (p *preparer) setup(debianVersion string) error {
	var err error
	if p.deb, err = parseDebianSource(debianVersion); err != nil {
		return err
	}
	if p.patches, err = readPatches(filepath.Join(p.cfg.Assets, patchesDirName)); err != nil {
		return err
	}
	if p.digest, err = p.inputDigest(); err != nil {
		return err
	}
	// The kernel version is Debian's upstream version; the tarball step
	// checks it against the tree's Makefile.
	version, _, _ := strings.Cut(p.deb.Version, "-")
	uname := version + "-" + p.cfg.Release + ".ph5"
	if p.k, err = photon.ParseKernel(uname); err != nil {
		return fmt.Errorf("photonlab: release %q: %w", p.cfg.Release, err)
	}
	if err := p.k.Livepatchable(); err != nil {
		return fmt.Errorf("photonlab: lab kernel %s: %w", uname, err)
	}
	dir := filepath.Join(PhotonDir(p.cfg.LabDir), uname)
	p.l = &Lab{
		Dir: dir, KernelRelease: uname, Version: version, Release: p.cfg.Release,
		Tree:     filepath.Join(dir, "src", "linux-"+version),
		BuildDir: filepath.Join(dir, "build"),
		RepoDir:  filepath.Join(dir, "repo"),
	}
	p.l.Vmlinuz = filepath.Join(p.l.BuildDir, "arch/x86/boot/bzImage")
	p.l.Vmlinux = filepath.Join(p.l.BuildDir, "vmlinux")
	p.l.Config = filepath.Join(p.l.BuildDir, ".config")
	p.l.ModuleSymvers = filepath.Join(p.l.BuildDir, "Module.symvers")
	p.l.SourceRPM = filepath.Join(p.l.RepoDir, photon.SourcePackage.RepoPath(p.k.Release()), photon.SourcePackage.PackagePath(p.k))
	p.l.DebuginfoRPM = filepath.Join(p.l.RepoDir, photon.DebuginfoPackage.RepoPath(p.k.Release()), photon.DebuginfoPackage.PackagePath(p.k))
	return os.MkdirAll(filepath.Join(dir, "SOURCES"), 0o755)
}

func (p *preparer) inputDigest() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "debian=%s release=%s\n", p.deb.Version, p.cfg.Release)
	files := []string{filepath.Join(p.cfg.Assets, specTemplateName), filepath.Join(p.cfg.Assets, fragmentName)}
	for _, pt := range p.patches {
		files = append(files, pt.Path)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("photonlab: asset: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (p *preparer) done(marker string) bool {
	data, err := os.ReadFile(filepath.Join(p.l.Dir, marker))
	if err != nil {
		return false
	}
	if marker == markTarball { // depends on the Debian version only
		return strings.TrimSpace(string(data)) == p.deb.Version
	}
	return strings.TrimSpace(string(data)) == p.digest
}

func (p *preparer) mark(marker string) error {
	p.worked = true
	content := p.digest
	if marker == markTarball {
		content = p.deb.Version
	}
	return writeFileAtomic(filepath.Join(p.l.Dir, marker), []byte(content+"\n"))
}

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
		if src, err = p.deb.fetch(ctx, p.run, dl); err != nil {
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
// the tree the kernel is built from is what the source RPM's %prep makes.
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

// config makes config_x86_64 and the build's .config (the same with
// CONFIG_LOCALVERSION set, as the spec's sed does). An unchanged .config
// is left alone so that kbuild does not rebuild.
func (p *preparer) config(ctx context.Context) error {
	fragment := filepath.Join(p.cfg.Assets, fragmentName)
	p.log.Info("making config", "base", "allnoconfig", "fragment", fragment)
	work := filepath.Join(p.l.Dir, "config.work")
	defer os.RemoveAll(work)
	config, err := makeConfig(ctx, p.run, p.l.Tree, work, fragment)
	if err != nil {
		return err
	}
	flavorConfig, err := p.k.ConfigFile()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.l.Dir, "SOURCES", flavorConfig), config); err != nil {
		return err
	}
	build, err := setLocalVersion(config, p.k.LocalVersion())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.l.BuildDir, 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(p.l.Config); err == nil && string(old) == string(build) {
		return nil
	}
	return writeFileAtomic(p.l.Config, build)
}

// build compiles the kernel out of tree and checks its release string.
func (p *preparer) build(ctx context.Context) error {
	start := time.Now()
	p.log.Info("building kernel", "uname", p.k.String(), "jobs", p.cfg.Jobs, "log", filepath.Join(p.l.Dir, "build.log"))
	logFile, err := os.Create(filepath.Join(p.l.Dir, "build.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	progress := &lineCounter{n: 250, each: func(lines int) {
		p.log.Info("building kernel", "make_lines", lines, "elapsed", time.Since(start).Round(time.Second))
	}}
	args := append([]string{"O=" + p.l.BuildDir}, kbuildTools...)
	if err := p.run.run(ctx, p.l.Tree, io.MultiWriter(logFile, progress), "make", append(args, fmt.Sprintf("-j%d", p.cfg.Jobs), "all")...); err != nil {
		return err
	}
	got, err := p.run.output(ctx, p.l.Tree, "make", append(args, "-s", "kernelrelease")...)
	if err != nil {
		return err
	}
	if got = strings.TrimSpace(got); got != p.k.String() {
		return fmt.Errorf("the kernel built as release %q, want %q", got, p.k.String())
	}
	for _, f := range []string{p.l.Vmlinuz, p.l.Vmlinux, p.l.ModuleSymvers} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("make all finished without %w", err)
		}
	}
	p.log.Info("kernel built", "uname", got, "took", time.Since(start).Round(time.Second))
	return nil
}

// repo writes the spec, the two packages and repodata in Photon's layout.
func (p *preparer) repo(ctx context.Context) error {
	start := time.Now()
	sum, err := fileSHA512(p.tarballPath())
	if err != nil {
		return err
	}
	spec, err := renderSpec(filepath.Join(p.cfg.Assets, specTemplateName), p.l.Version, p.cfg.Release, sum, p.patches)
	if err != nil {
		return err
	}
	flavorConfig, err := p.k.ConfigFile()
	if err != nil {
		return err
	}
	config, err := os.ReadFile(filepath.Join(p.l.Dir, "SOURCES", flavorConfig))
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.l.Dir, "SOURCES", p.k.Package()+".spec"), spec); err != nil {
		return err
	}
	if err := os.RemoveAll(p.l.RepoDir); err != nil {
		return err
	}
	// Package times follow the kernel build, so a rebuilt repo is identical.
	fi, err := os.Stat(p.l.Vmlinux)
	if err != nil {
		return err
	}
	buildTime := fi.ModTime().UTC().Truncate(time.Second)
	p.log.Info("writing source RPM", "file", filepath.Base(p.l.SourceRPM))
	if err := writeSourceRPM(p.l.SourceRPM, p.k, sourceInputs{Spec: spec, Tarball: p.tarballPath(), Config: config, Patches: p.patches}, buildTime); err != nil {
		return err
	}
	p.log.Info("writing debuginfo RPM", "file", filepath.Base(p.l.DebuginfoRPM))
	if err := writeDebuginfoRPM(p.l.DebuginfoRPM, p.k, p.l.Vmlinux, buildTime); err != nil {
		return err
	}
	for _, kind := range []photon.PackageKind{photon.SourcePackage, photon.DebuginfoPackage} {
		arch := map[photon.PackageKind]string{photon.SourcePackage: "src", photon.DebuginfoPackage: "x86_64"}[kind]
		name := p.k.Package()
		if kind == photon.DebuginfoPackage {
			name += "-debuginfo"
		}
		pkg := repoPackage{Name: name, Arch: arch, Version: p.l.Version, Release: p.k.RPMRelease(), Href: kind.PackagePath(p.k)}
		if err := writeRepodata(filepath.Join(p.l.RepoDir, kind.RepoPath(p.k.Release())), []repoPackage{pkg}, buildTime); err != nil {
			return err
		}
	}
	p.log.Info("repository ready", "dir", p.l.RepoDir, "took", time.Since(start).Round(time.Second))
	return nil
}

func fileSHA512(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
