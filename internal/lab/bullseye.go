// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
)

// bullseye fetches the 5.10 lab kernel from Debian 11's archive (the point
// release and its security suite): the host's apt knows only bookworm, so
// the packages come through build/toolchain's signed indexes and verified
// downloads. The headers are installed into a toolchain root with the
// kernel's own gcc-10, binutils and glibc, in which every kbuild run
// against this kernel happens (kbuild's host tools, fixdep and modpost,
// are built there and need that glibc), and from there on the host too,
// at the same paths (/usr/src/linux-headers-<release>, its -common tree
// and linux-kbuild; hard links, each tree marked as the lab's: see
// installHeaders), where the unprivileged build user reaches them by path
// and a build in the root finds the same files.
type bullseye struct {
	suites  []toolchain.Suite
	keyring string // file holding the archive keys
	cache   string // indexes and roots
	log     *slog.Logger
	idx     *toolchain.Index
}

func newBullseye(dir string, log *slog.Logger) *bullseye {
	return &bullseye{suites: toolchain.Bullseye(), keyring: toolchain.DebianKeyring, cache: filepath.Join(dir, "toolchain"), log: log}
}

// resolve reads the suites' signed indexes and picks the ABI the
// linux-headers-amd64 meta package depends on (the security suite moves
// it, so it is never fixed), as the 6.1 lab asks apt.
func (b *bullseye) resolve(ctx context.Context, g Generation) (Kernel, error) {
	if err := b.loadIndex(ctx); err != nil {
		return Kernel{}, err
	}
	meta := b.idx.Package("linux-headers-amd64", "")
	if meta == nil {
		return Kernel{}, fmt.Errorf("no linux-headers-amd64 in %s", suiteNames(b.suites))
	}
	k, err := metaTarget(meta, g)
	if err != nil {
		return Kernel{}, err
	}
	for _, name := range []string{k.imagePackage(), k.dbgPackage(), k.headersPackage(), k.sourcePackage()} {
		if b.idx.Package(name, k.Version) == nil {
			return Kernel{}, fmt.Errorf("linux-headers-amd64 %s points to %s %s, but %s %s is in no index of %s", meta.Version, k.Release, k.Version, name, k.Version, suiteNames(b.suites))
		}
	}
	return k, nil
}

// metaTarget is the kernel a linux-headers-amd64 package depends on:
// "linux-headers-5.10.0-46-amd64 (= 5.10.262-1)" gives that release at
// that version. The release must belong to generation g.
func metaTarget(meta *toolchain.Package, g Generation) (Kernel, error) {
	for _, dep := range meta.Depends {
		for _, alt := range dep {
			release, ok := strings.CutPrefix(alt.Name, "linux-headers-")
			if !ok || !releasePattern.MatchString(release) {
				continue
			}
			if !g.owns(release) {
				return Kernel{}, fmt.Errorf("linux-headers-amd64 %s depends on %s, not a %s kernel", meta.Version, alt.Name, g)
			}
			if alt.Op != "=" {
				return Kernel{}, fmt.Errorf("linux-headers-amd64 %s depends on %s without an exact version", meta.Version, alt)
			}
			return Kernel{Release: release, Version: alt.Version}, nil
		}
	}
	return Kernel{}, fmt.Errorf("linux-headers-amd64 %s depends on no linux-headers-<release> package", meta.Version)
}

func suiteNames(suites []toolchain.Suite) string {
	names := make([]string, len(suites))
	for i, s := range suites {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// download fetches name at version into dir, checked against the signed
// index's size and SHA-256.
func (b *bullseye) download(ctx context.Context, name, version, dir string) (string, error) {
	pkg := b.idx.Package(name, version)
	if pkg == nil {
		return "", fmt.Errorf("%s %s is in no index of %s", name, version, suiteNames(b.suites))
	}
	b.log.Info("fetching", "url", pkg.URL, "MB", fmt.Sprintf("%.1f", float64(pkg.Size)/1e6))
	file := filepath.Join(dir, name+".deb")
	if err := toolchain.Download(ctx, nil, pkg.Entry(), file); err != nil {
		return "", fmt.Errorf("%s %s: %w", name, version, err)
	}
	return file, nil
}

// headers provisions the toolchain root and installs its kernel headers on
// the host (installHeaders): the root holds the compiler the kernel's config
// names (CONFIG_CC_VERSION_TEXT, exact Debian version), kbuild's tools and
// the kernel's headers package. A root already built from the same list
// is reused. The compiler in it must print the config's identification.
func (b *bullseye) headers(ctx context.Context, p *preparer, l *Lab) error {
	config := filepath.Join(p.kdir, "config-boot")
	ident, err := ccVersionText(config)
	if err != nil {
		return err
	}
	gcc, err := toolchain.DebianCompiler(ident)
	if err != nil {
		return fmt.Errorf("%s: %w", config, err)
	}
	// python3: make prepare of the full tree runs a script of libbpf's
	// (for resolve_btfids) with it.
	list, err := b.idx.Resolve(append(toolchain.DebianKernelBuild(gcc), "python3", p.k.headersPackage()+"="+p.k.Version))
	if err != nil {
		return err
	}
	cache := &toolchain.Cache{Dir: filepath.Join(b.cache, "roots"), Log: b.log}
	root, ok := cache.Lookup(list)
	if !ok {
		var size int64
		for _, e := range list {
			size += e.Size
		}
		b.log.Info("provisioning toolchain root", "compiler", gcc, "packages", len(list), "MB", fmt.Sprintf("%.1f", float64(size)/1e6))
		if root, err = cache.Provision(ctx, list); err != nil {
			return err
		}
		p.record("provisioned the toolchain root " + root.Dir)
	}
	compiler, _, _ := strings.Cut(gcc, "=")
	line, err := root.VersionLine(ctx, compiler)
	if err != nil {
		return err
	}
	if line != ident {
		return fmt.Errorf("%s --version in toolchain root %s prints %q, the kernel was built by %q", compiler, root.Dir, line, ident)
	}
	removeOtherRoots(cache.Dir, filepath.Base(root.Dir), b.log)
	l.ToolchainRoot = root.Dir
	l.Compiler = compiler
	// The headers go where the build user reaches them, as Debian's
	// package would put them; the root keeps its own copy.
	var installed []string
	if l.HeadersDir, installed, err = installHeaders(root.Dir, filepath.Join("usr/src", p.k.headersPackage()), p.cfg.Root, b.log); err != nil {
		return err
	}
	if len(installed) > 0 {
		p.record("installed the headers on the host: " + strings.Join(installed, " "))
	}
	l.Config = filepath.Join(l.HeadersDir, ".config")
	// The image's config and the headers' must be one kernel's.
	boot, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	hdr, err := os.ReadFile(l.Config)
	if err != nil {
		return fmt.Errorf("headers provisioned but %w", err)
	}
	if !bytes.Equal(boot, hdr) {
		b.log.Warn("the image's config and the headers' differ: the headers may not be the lab kernel's", "image", config, "headers", l.Config)
	}
	return nil
}

// ccVersionText returns CONFIG_CC_VERSION_TEXT of a kernel config.
func ccVersionText(config string) (string, error) {
	data, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CONFIG_CC_VERSION_TEXT="); ok {
			return strings.Trim(v, `"`), nil
		}
	}
	return "", fmt.Errorf("%s has no CONFIG_CC_VERSION_TEXT", config)
}

// removeOtherRoots deletes the lab's roots of earlier lists (another ABI's
// headers): the lab only uses the current one. Temporary directories of a
// build under way (".tmp-...") are left alone.
func removeOtherRoots(dir, keep string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == keep || name == keep+".lock" {
			continue
		}
		log.Info("removing old toolchain root", "dir", filepath.Join(dir, name))
		os.RemoveAll(filepath.Join(dir, name))
	}
}
