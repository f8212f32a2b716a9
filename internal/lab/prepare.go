// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// Config says where and what to prepare. The zero value of every field but
// Dir is a useful default.
type Config struct {
	// Dir is the cache directory holding the lab (required); a generation
	// other than the default lives in a subdirectory (Generation.Dir).
	Dir string
	// Generation is the kernel generation to prepare; "" means Bookworm61.
	Generation Generation
	// Source also unpacks and prepares the matching linux-source tree.
	Source bool
	// Root is the host's root directory, where apt installs the headers
	// (/lib/modules/<release>/build). Default "/".
	Root string
	// Jobs is make's -j for the source preparation. Default: the CPU count.
	Jobs int
	// Logger receives one Info line per step. Default: discard.
	Logger *slog.Logger
}

// marker files, written last by each step.
const (
	markImage    = ".done-image"
	markDbg      = ".done-dbg"
	markSource   = ".done-source-unpacked"
	markPrepared = ".done-source-prepared"
)

// markDid says what the step of each marker did, for Prepare's last line.
var markDid = map[string]string{
	markImage:    "unpacked vmlinuz and the config",
	markModules:  "unpacked the guest's modules",
	markDbg:      "unpacked vmlinux and System.map",
	markSource:   "unpacked the source tree",
	markPrepared: "prepared the source tree",
}

// record notes work a step did: Prepare's last line lists it, or says
// there was nothing to do.
func (p *preparer) record(what string) { p.did = append(p.did, what) }

// Prepare makes the lab in cfg.Dir complete and returns it. It is idempotent:
// finished steps are skipped, interrupted ones redone. It runs apt-get, so it
// needs root and a reachable Debian archive unless everything is cached.
func Prepare(ctx context.Context, cfg Config) (*Lab, error) {
	if cfg.Dir == "" {
		return nil, errors.New("lab: Config.Dir is empty")
	}
	p := &preparer{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.cfg.Root == "" {
		p.cfg.Root = "/"
	}
	if p.cfg.Jobs <= 0 {
		p.cfg.Jobs = runtime.NumCPU()
	}
	gen, err := ParseGeneration(string(cfg.Generation))
	if err != nil {
		return nil, err
	}
	p.cfg.Generation = gen
	p.cfg.Dir = gen.Dir(cfg.Dir)
	if gen == Bullseye510 {
		p.remote = newBullseye(p.cfg.Dir, p.log)
	}
	p.run = &runner{log: p.log, env: []string{"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"}}
	return p.prepare(ctx)
}

type preparer struct {
	cfg  Config
	log  *slog.Logger
	run  *runner
	k    Kernel
	kdir string   // <Dir>/<release>
	did  []string // what this run did, for its last line (did)
	// remote fetches a generation the host's apt does not know (nil:
	// apt does the work).
	remote *bullseye
}

func (p *preparer) prepare(ctx context.Context) (*Lab, error) {
	start := time.Now()
	var k Kernel
	var err error
	if p.remote != nil {
		k, err = p.remote.resolve(ctx, p.cfg.Generation)
	} else {
		k, err = resolveKernel(ctx, p.run, p.cfg.Generation)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: resolve kernel: %w", err)
	}
	p.k = k
	p.kdir = filepath.Join(p.cfg.Dir, k.Release)
	p.log.Info("lab kernel", "release", k.Release, "version", k.Version, "dir", p.kdir)
	if err := os.MkdirAll(p.kdir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	// Leftovers of an interrupted run (temporary files are renamed into
	// place only when complete).
	stale, _ := filepath.Glob(filepath.Join(p.kdir, ".*.tmp*"))
	for _, f := range stale {
		os.Remove(f)
	}
	l := &Lab{
		Dir:           p.cfg.Dir,
		KernelRelease: k.Release,
		Version:       k.Version,
		Vmlinuz:       filepath.Join(p.kdir, "vmlinuz"),
		Vmlinux:       filepath.Join(p.kdir, "vmlinux"),
		SystemMap:     filepath.Join(p.kdir, "System.map"),
		HeadersDir:    filepath.Join(p.cfg.Root, "lib/modules", k.Release, "build"),
	}
	if p.cfg.Generation != Bookworm61 {
		l.Generation = p.cfg.Generation
	}
	l.Config = filepath.Join(l.HeadersDir, ".config")
	steps := []func(context.Context, *Lab) error{p.image, p.modules, p.dbg, p.headers}
	if p.cfg.Generation == Bullseye510 {
		steps = append(steps, p.kpatchSuite) // its conformance suite (kpatchsuite.go)
	}
	if p.cfg.Source {
		steps = append(steps, p.sourceUnpack, p.sourcePrepare)
	}
	for _, step := range steps {
		if err := step(ctx, l); err != nil {
			return nil, fmt.Errorf("lab %s: %w", k.Release, err)
		}
	}
	if p.cfg.Source {
		l.SourceDir = filepath.Join(p.kdir, "source")
	} else if old, err := Open(p.cfg.Dir); err == nil && old.KernelRelease == k.Release {
		l.SourceDir = old.SourceDir // keep a tree prepared earlier
	}
	if err := l.writeManifest(); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	p.removeOldKernels()
	if len(p.did) == 0 {
		p.log.Info("lab ready, nothing to do", "release", k.Release)
	} else {
		p.log.Info("lab ready: "+strings.Join(p.did, "; "), "release", k.Release, "took", time.Since(start).Round(time.Second))
	}
	return l, nil
}

// done reports whether a step's marker exists; mark writes it.
func (p *preparer) done(marker string) bool {
	_, err := os.Stat(filepath.Join(p.kdir, marker))
	return err == nil
}

func (p *preparer) mark(marker string) error {
	p.record(markDid[marker])
	return atomicfile.WriteFile(filepath.Join(p.kdir, marker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// download fetches name=version with apt-get download into a fresh
// directory under the lab and returns the .deb's path.
func (p *preparer) download(ctx context.Context, name string) (string, error) {
	dir := filepath.Join(p.kdir, "download")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p.log.Info("downloading", "package", name+"="+p.k.Version)
	if p.remote != nil {
		return p.remote.download(ctx, name, p.k.Version, dir)
	}
	if err := p.run.run(ctx, dir, "apt-get", "download", "-q", name+"="+p.k.Version); err != nil {
		return "", err
	}
	debs, _ := filepath.Glob(filepath.Join(dir, name+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: expected one .deb in %s, found %d", name, dir, len(debs))
	}
	return debs[0], nil
}

// image unpacks vmlinuz, config and GuestModules from the image package.
func (p *preparer) image(ctx context.Context, l *Lab) error {
	if p.done(markImage) {
		return nil
	}
	deb, err := p.download(ctx, p.k.imagePackage())
	if err != nil {
		return err
	}
	p.log.Info("unpacking vmlinuz, config and modules", "from", filepath.Base(deb))
	want := p.moduleMembers()
	want["boot/vmlinuz-"+p.k.Release] = l.Vmlinuz
	want["boot/config-"+p.k.Release] = filepath.Join(p.kdir, "config-boot")
	err = extractDeb(ctx, p.run, deb, want)
	os.RemoveAll(filepath.Dir(deb))
	if err != nil {
		return err
	}
	if err := p.mark(markModules); err != nil {
		return err
	}
	return p.mark(markImage)
}

// dbg unpacks vmlinux and the real System.map from the -dbg package (~860 MB,
// deleted afterwards: the two files are all the lab needs).
func (p *preparer) dbg(ctx context.Context, l *Lab) error {
	if p.done(markDbg) {
		return nil
	}
	deb, err := p.download(ctx, p.k.dbgPackage())
	if err != nil {
		return err
	}
	p.log.Info("unpacking vmlinux and System.map", "from", filepath.Base(deb))
	err = extractDeb(ctx, p.run, deb, map[string]string{
		"usr/lib/debug/boot/vmlinux-" + p.k.Release:    l.Vmlinux,
		"usr/lib/debug/boot/System.map-" + p.k.Release: l.SystemMap,
	})
	os.RemoveAll(filepath.Dir(deb))
	if err != nil {
		return err
	}
	// The image package ships an 83-byte stub System.map: make sure this is the real one.
	if fi, err := os.Stat(l.SystemMap); err != nil || fi.Size() < 1<<20 {
		return fmt.Errorf("%s is not a full System.map", l.SystemMap)
	}
	return p.mark(markDbg)
}

// headers installs linux-headers-<release> at the exact version with apt.
func (p *preparer) headers(ctx context.Context, l *Lab) error {
	if p.remote != nil {
		return p.remote.headers(ctx, p, l)
	}
	name := p.k.headersPackage()
	out, _ := p.run.output(ctx, "", "dpkg-query", "-W", "-f", "${Status} ${Version}", name)
	if !parseInstalled(out, p.k.Version) {
		p.log.Info("installing", "package", name+"="+p.k.Version)
		if err := p.run.run(ctx, "", "apt-get", "install", "-y", "-q", "--no-install-recommends", name+"="+p.k.Version); err != nil {
			return err
		}
		p.record("installed " + name + "=" + p.k.Version)
	}
	if _, err := os.Stat(l.Config); err != nil {
		return fmt.Errorf("headers installed but %w", err)
	}
	return nil
}

// sourceUnpack fetches linux-source-X.Y at the lab version and unpacks its
// tarball into <kdir>/source (through a temporary directory).
func (p *preparer) sourceUnpack(ctx context.Context, l *Lab) error {
	if p.done(markSource) {
		return nil
	}
	pkg := p.k.sourcePackage()
	deb, err := p.download(ctx, pkg)
	if err != nil {
		return err
	}
	tarball := filepath.Join(filepath.Dir(deb), pkg+".tar.xz")
	err = extractDeb(ctx, p.run, deb, map[string]string{"usr/src/" + pkg + ".tar.xz": tarball})
	if err != nil {
		return err
	}
	os.Remove(deb)
	// A fresh tree must be prepared again.
	if err := os.Remove(filepath.Join(p.kdir, markPrepared)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp := filepath.Join(p.kdir, "source.partial")
	final := filepath.Join(p.kdir, "source")
	for _, d := range []string{tmp, final} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	p.log.Info("unpacking source", "tarball", filepath.Base(tarball))
	if err := p.run.run(ctx, tmp, "tar", "-xJf", tarball, "--no-same-owner"); err != nil {
		return err
	}
	os.RemoveAll(filepath.Dir(deb))
	if p.cfg.Generation.RT() {
		if err := p.rtTree(ctx, filepath.Join(tmp, pkg)); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(tmp, pkg), final); err != nil {
		return fmt.Errorf("source tarball layout: %w", err)
	}
	os.Remove(tmp)
	return p.mark(markSource)
}

// sourcePrepare configures the tree with the headers' complete .config and
// runs make prepare with the compiler Debian built the kernel with (in the
// toolchain root, for a generation whose compiler the host lacks).
func (p *preparer) sourcePrepare(ctx context.Context, l *Lab) error {
	if p.done(markPrepared) {
		return nil
	}
	src := filepath.Join(p.kdir, "source")
	cfg, err := os.ReadFile(l.Config)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(src, ".config"), cfg, 0o644); err != nil {
		return err
	}
	p.log.Info("configuring source", "make", "olddefconfig")
	if err := l.Make(ctx, p.log, src, nil, "olddefconfig"); err != nil {
		return err
	}
	// The headers' .config is complete, so olddefconfig should not change
	// it; if it does, the source does not match the headers' kernel.
	// For the rt tree the check is of the symbols' values, and failing: a
	// tree that does not offer the rt config is not the rt kernel's.
	if p.cfg.Generation.RT() {
		if err := p.requireRTConfig(l.Config, filepath.Join(src, ".config")); err != nil {
			return err
		}
	} else if got, err := os.ReadFile(filepath.Join(src, ".config")); err == nil && !bytes.Equal(got, cfg) {
		p.log.Warn("olddefconfig changed the headers' .config: the source tree may not match the lab kernel")
	}
	p.log.Info("preparing source", "make", "prepare", "jobs", p.cfg.Jobs)
	if err := l.Make(ctx, p.log, src, nil, fmt.Sprintf("-j%d", p.cfg.Jobs), "prepare"); err != nil {
		return err
	}
	return p.mark(markPrepared)
}

// KbuildArgs are the make variables every kbuild run against the lab kernel
// uses: gcc-12 (Debian's compiler for 6.1, and minbase has no plain gcc for
// host tools) and the lab's release string.
func KbuildArgs(release string) []string {
	return []string{"CC=gcc-12", "HOSTCC=gcc-12", "KERNELRELEASE=" + release}
}

// removeOldKernels deletes cached kernels of earlier ABIs: the lab only ever
// uses the current one.
func (p *preparer) removeOldKernels() {
	entries, err := os.ReadDir(p.cfg.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != p.k.Release && releasePattern.MatchString(e.Name()) {
			p.log.Info("removing old lab kernel", "release", e.Name())
			os.RemoveAll(filepath.Join(p.cfg.Dir, e.Name()))
		}
	}
}

// String describes the lab for humans.
func (l *Lab) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel release  %s (Debian %s)\n", l.KernelRelease, l.Version)
	for _, p := range l.paths() {
		if p.path != "" {
			fmt.Fprintf(&b, "%-15s %s\n", p.what, p.path)
		}
	}
	return b.String()
}
