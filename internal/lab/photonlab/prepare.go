// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Config says what to prepare. LabDir and Assets are required; the rest
// has defaults.
type Config struct {
	// LabDir is package lab's directory; the Photon lab lives in
	// LabDir/photon/<uname>. The Debian lab must be prepared there (its
	// kernel version picks the source).
	LabDir string
	// Assets holds linux.spec.in, config-fragment[-<flavor>] and patches/:
	// the repository's testdata/photonlab.
	Assets string
	// Release is the RPM release number of the lab kernels; default "1".
	Release string
	// Flavors are the kernel flavors to build; default generic and aws.
	// Generic is always built (first). Each flavor gets its own uname,
	// config file (config-fragment plus config-fragment-<flavor> when that
	// exists), build, source RPM, spec and debuginfo RPM.
	Flavors []photon.Flavor
	// DebianTarball is Debian's linux-source tarball to repack; default:
	// downloaded with apt-get at the Debian lab kernel's version.
	DebianTarball string
	// Jobs is make's -j and xz's threads; default the CPU count.
	Jobs int
	// Make is the make program; default "make".
	Make string
	// Packages are klpkit's own RPMs (make rpms, for the lab's Photon
	// release) to publish in the release's updates repository beside the
	// kernels' devel RPMs, with repodata that resolves them (tdnf install
	// kpatch). Files named NAME-VERSION-RELEASE.ARCH.rpm; nil = none.
	Packages []string
	// Logger receives one Info line per step and build progress. Default: discard.
	Logger *slog.Logger
	// Generation is the Photon release of the lab's kernels; "" is PH5.
	// PH4 builds Debian's 5.10 source with the 5.10 lab's gcc-10 (that
	// lab must be prepared) from the assets' ph4 directory.
	Generation Generation
}

// Prepare builds the Photon lab in cfg.LabDir (see the package doc) and
// returns it. It is idempotent and restartable: finished steps are
// skipped, interrupted ones redone. The first run downloads Debian's
// source package and builds the kernels (minutes); later runs take seconds.
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
	if p.cfg.Make == "" {
		p.cfg.Make = "make"
	}
	if p.cfg.Generation == "" {
		p.cfg.Generation = PH5
	}
	if len(p.cfg.Flavors) == 0 {
		p.cfg.Flavors = p.cfg.Generation.defaultFlavors()
	}
	p.run = &runner{log: p.log, env: []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}}
	p.kb = hostKbuild{r: p.run, prog: p.cfg.Make}
	return p
}

type preparer struct {
	cfg     Config
	log     *slog.Logger
	run     *runner
	deb     debianSource
	l       *Lab
	flavors []flavorBuild // generic first
	patches []Patch
	worked  bool
	kb      kbuild   // make with the kernel's compiler
	debLab  *lab.Lab // the Debian lab the source and compiler come from
}

// flavorBuild is one flavor's kernel and where it is built.
type flavorBuild struct {
	k         photon.Kernel
	fk        *FlavorKernel
	fragments []string // config fragments, merged in order
}

// step is one cached stage: done when its marker holds its input digest.
type step struct {
	marker string
	digest string
	do     func(context.Context) error
}

func (p *preparer) prepare(ctx context.Context) (*Lab, error) {
	start := time.Now()
	debLab, err := lab.Open(p.cfg.Generation.Debian().Dir(p.cfg.LabDir))
	if err != nil {
		return nil, fmt.Errorf("photonlab: the Debian lab comes first: %w", err)
	}
	p.debLab = debLab
	if err := p.setup(debLab.Version); err != nil {
		return nil, err
	}
	if debLab.ToolchainRoot != "" {
		// The tree and the build directories are in the lab's directory.
		p.kb = rootKbuild{deb: debLab, binds: []string{p.l.Dir}}
		p.l.ToolchainRoot, p.l.Compiler = debLab.ToolchainRoot, debLab.Compiler
	}
	p.log.Info("photon lab kernels", "uname", p.unames(), "debian", p.deb.Version, "dir", p.l.Dir)
	if err := restoreGenericBuild(p.l.BuildDir); err != nil {
		return nil, fmt.Errorf("photonlab: %w", err)
	}
	steps, err := p.steps()
	if err != nil {
		return nil, err
	}
	for i, s := range steps {
		if p.done(s) {
			continue
		}
		// Redoing a step invalidates the steps after it and the manifest.
		later := []string{manifestName}
		for _, s := range steps[i+1:] {
			later = append(later, s.marker)
		}
		for _, m := range later {
			if err := os.Remove(filepath.Join(p.l.Dir, m)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
		if err := s.do(ctx); err != nil {
			return nil, fmt.Errorf("photonlab %s: %w", p.l.KernelRelease, err)
		}
		p.worked = true
		if err := writeFileAtomic(filepath.Join(p.l.Dir, s.marker), []byte(s.digest+"\n")); err != nil {
			return nil, err
		}
	}
	if err := p.l.writeManifest(); err != nil {
		return nil, fmt.Errorf("photonlab: %w", err)
	}
	if p.worked {
		p.log.Info("photon lab ready", "uname", p.unames(), "took", time.Since(start).Round(time.Second))
	} else {
		p.log.Info("photon lab ready, nothing to do", "uname", p.unames())
	}
	return OpenDir(p.l.Dir)
}

func (p *preparer) unames() string {
	var names []string
	for _, fb := range p.flavors {
		names = append(names, fb.k.String())
	}
	return strings.Join(names, " ")
}

// setup works out the lab kernels and their paths from the Debian lab
// kernel's package version.
func (p *preparer) setup(debianVersion string) error {
	var err error
	if p.deb, err = parseDebianSource(debianVersion); err != nil {
		return err
	}
	if p.patches, err = readPatches(filepath.Join(p.assets(), patchesDirName)); err != nil {
		return err
	}
	// The kernel version is Debian's upstream version; the tarball step
	// checks it against the tree's Makefile.
	version, _, _ := strings.Cut(p.deb.Version, "-")
	base := version + "-" + p.cfg.Release + "." + string(p.cfg.Generation)
	dir := filepath.Join(PhotonDir(p.cfg.LabDir), base)
	p.l = &Lab{
		Dir: dir, Version: version, Release: p.cfg.Release,
		Tree:    filepath.Join(dir, "src", "linux-"+version),
		RepoDir: filepath.Join(dir, "repo"),
	}
	signing, err := ensureSigning(dir, time.Now())
	if err != nil {
		return err
	}
	flavors := []photon.Flavor{photon.Generic}
	for _, f := range p.cfg.Flavors {
		if f != "" && !slices.Contains(flavors, f) {
			flavors = append(flavors, f)
		}
	}
	p.flavors = nil
	for _, f := range flavors {
		uname := base
		if f != photon.Generic {
			uname += "-" + string(f)
		}
		k, err := photon.ParseKernel(uname)
		if err != nil {
			return fmt.Errorf("photonlab: release %q, flavor %q: %w", p.cfg.Release, f, err)
		}
		if err := k.Livepatchable(); err != nil {
			return fmt.Errorf("photonlab: lab kernel %s: %w", uname, err)
		}
		build := filepath.Join(dir, "build")
		if f != photon.Generic {
			build += "-" + string(f)
		}
		fk := FlavorKernel{
			Flavor: f, KernelRelease: uname, BuildDir: build,
			Vmlinuz: filepath.Join(build, "arch/x86/boot/bzImage"), Vmlinux: filepath.Join(build, "vmlinux"),
			Config: filepath.Join(build, ".config"), ModuleSymvers: filepath.Join(build, "Module.symvers"),
			SourceRPM:    filepath.Join(p.l.RepoDir, kernelsrc.SourcePackage.RepoPath(k.Release()), kernelsrc.SourcePackage.PackagePath(k)),
			DebuginfoRPM: filepath.Join(p.l.RepoDir, kernelsrc.DebuginfoPackage.RepoPath(k.Release()), kernelsrc.DebuginfoPackage.PackagePath(k)),
			DevelRPM:     filepath.Join(p.l.RepoDir, kernelsrc.DevelPackage.RepoPath(k.Release()), kernelsrc.DevelPackage.PackagePath(k)),
		}
		fragments := []string{filepath.Join(p.assets(), fragmentName)}
		if extra := filepath.Join(p.assets(), fragmentName+"-"+string(f)); fileExists(extra) {
			fragments = append(fragments, extra)
		}
		// Every flavor signs its modules (sha512) and trusts the lab key,
		// as every livepatchable Photon config signs modules: one
		// fragment, so aws's config is generic's but for its own lines.
		fragments = append(fragments, signing.Fragment)
		fk.SigningKey, fk.SigningCert = signing.Key, signing.Cert
		p.l.Flavors = append(p.l.Flavors, fk)
		p.flavors = append(p.flavors, flavorBuild{k: k, fragments: fragments})
	}
	for i := range p.flavors {
		p.flavors[i].fk = &p.l.Flavors[i]
	}
	generic := p.l.Flavors[0]
	p.l.KernelRelease, p.l.Vmlinuz, p.l.Vmlinux, p.l.Config = generic.KernelRelease, generic.Vmlinuz, generic.Vmlinux, generic.Config
	p.l.BuildDir, p.l.ModuleSymvers, p.l.SourceRPM, p.l.DebuginfoRPM = generic.BuildDir, generic.ModuleSymvers, generic.SourceRPM, generic.DebuginfoRPM
	p.l.DevelRPM, p.l.SigningKey, p.l.SigningCert = generic.DevelRPM, generic.SigningKey, generic.SigningCert
	if p.l.Packages, err = p.ownPackagePaths(); err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(dir, "SOURCES"), 0o755)
}

// repoPackageSet names what the repository step writes per flavor.
const repoPackageSet = "src debuginfo devel"

// steps lists the stages with the digests of their inputs: changed assets
// redo the steps they feed (and, by the invalidation rule, those after).
func (p *preparer) steps() ([]step, error) {
	tarball := digestOf("debian=" + p.deb.Version)
	var patchFiles []string
	for _, pt := range p.patches {
		patchFiles = append(patchFiles, pt.Path)
	}
	tree, err := digestFiles(tarball, patchFiles)
	if err != nil {
		return nil, err
	}
	steps := []step{
		{".done-tarball", tarball, p.tarball},
		{".done-tree", tree, p.tree},
	}
	all := tree
	for _, fb := range p.flavors {
		config, err := digestFiles(tree+" "+fb.k.String(), fb.fragments)
		if err != nil {
			return nil, err
		}
		suffix := ""
		if fb.k.Flavor != photon.Generic {
			suffix = "-" + string(fb.k.Flavor)
		}
		steps = append(steps,
			step{".done-config" + suffix, config, func(ctx context.Context) error { return p.config(ctx, fb) }},
			step{".done-build" + suffix, digestOf(config + p.buildSeed()), func(ctx context.Context) error { return p.build(ctx, fb) }})
		all += " " + config
	}
	// The seed names the repository's package set: adding one (the devel
	// RPMs) redoes only this step on a lab whose kernels are built.
	repo, err := digestFiles(all+" "+repoPackageSet, []string{filepath.Join(p.assets(), specTemplateName)})
	if err != nil {
		return nil, err
	}
	own, err := digestFiles(repo+" packages", p.cfg.Packages)
	if err != nil {
		return nil, err
	}
	return append(steps, step{".done-repo", repo, p.repo}, step{".done-packages", own, p.ownPackages}), nil
}

func (p *preparer) done(s step) bool {
	data, err := os.ReadFile(filepath.Join(p.l.Dir, s.marker))
	return err == nil && strings.TrimSpace(string(data)) == s.digest
}

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestFiles hashes a seed and the names and contents of files.
func digestFiles(seed string, files []string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, seed)
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

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
