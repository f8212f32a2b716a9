// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/ccwrap"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// ErrUnknownCompiler: a compiler identification names no gcc version.
var ErrUnknownCompiler = errors.New("photontoolchain: no gcc version in the compiler identification")

// ErrPackageMismatch: a downloaded package's header is not the package the
// repository's metadata listed under its checksum.
var ErrPackageMismatch = errors.New("photontoolchain: package is not the one the repository lists")

// KernelBuild is the package set a root needs to build a Photon kernel's
// modules and livepatches with kbuild: gcc at the version given
// ("12.2.0"), the binutils, glibc-devel and make it works with, and the
// shell, text tools, perl, bc, libelf and libssl headers kbuild's recipes,
// objtool and sign-file use, by Photon's package names.
func KernelBuild(gccVersion string) []string {
	return []string{
		"gcc = " + gccVersion, "binutils", "glibc-devel", "make",
		"bash", "coreutils", "sed", "grep", "gawk", "findutils", "diffutils",
		"gzip", "xz", "tar", "cpio", "kmod", "bc", "bison", "flex", "perl",
		"elfutils-libelf-devel", "openssl-devel",
	}
}

// GCCVersion is the gcc version a kernel's compiler identification names:
// "gcc (GCC) 12.2.0" (Photon's) and "gcc-12 (Debian 12.2.0-14+deb12u1)
// 12.2.0" (the Photon lab's), with or without the program name, give
// "12.2.0", the version of Photon's gcc package. clang is refused.
func GCCVersion(ident string) (string, error) {
	v := ccwrap.Version(ident)
	if v == "" || strings.Contains(strings.ToLower(ident), "clang") {
		return "", fmt.Errorf("%w: %q", ErrUnknownCompiler, ident)
	}
	return v, nil
}

// DefaultRepos are the repository directories of release r that hold its
// toolchain, relative to a base URL: the GA repository and its updates
// ("5.0/photon_release_5.0_x86_64", "5.0/photon_updates_5.0_x86_64").
func DefaultRepos(r photon.Release) []string {
	return []string{
		fmt.Sprintf("%s/photon_release_%s_x86_64", r, r),
		fmt.Sprintf("%s/photon_updates_%s_x86_64", r, r),
	}
}

// Provisioner provisions toolchain roots from a Photon release's
// repositories.
type Provisioner struct {
	// Release is the kernel's Photon release.
	Release photon.Release
	// BaseURLs are repository roots tried in order (a mirror, the lab);
	// nil means kernelsrc.DefaultBaseURLs. The first that serves every
	// repository of Repos is used.
	BaseURLs []string
	// Repos are the repository directories below a base URL; nil means
	// DefaultRepos(Release).
	Repos []string
	// SigningKeys, when set, are the trusted OpenPGP public keys (armored
	// or binary): every package must carry a valid signature by one.
	SigningKeys []byte
	// CacheDir keeps the roots.
	CacheDir string
	// Client fetches; nil means http.DefaultClient.
	Client *http.Client
	// Log, when set, hears of downloads and completed roots.
	Log *slog.Logger
}

// Index reads the repositories' verified metadata, from the first base URL
// that serves all of them.
func (p *Provisioner) Index(ctx context.Context) (*Index, error) {
	idx, _, err := p.index(ctx)
	return idx, err
}

// index is Index, with the URLs of the repositories it read.
func (p *Provisioner) index(ctx context.Context) (*Index, []string, error) {
	bases := p.BaseURLs
	if len(bases) == 0 {
		bases = kernelsrc.DefaultBaseURLs()
	}
	repos := p.Repos
	if len(repos) == 0 {
		repos = DefaultRepos(p.Release)
	}
	var errs []error
	for _, base := range bases {
		var pkgs []*Package
		var urls []string
		var err error
		for _, dir := range repos {
			var got []*Package
			url := strings.TrimSuffix(base, "/") + "/" + dir
			got, err = readRepository(ctx, p.Client, url)
			if err != nil {
				break
			}
			pkgs, urls = append(pkgs, got...), append(urls, url)
		}
		if err == nil {
			return NewIndex(pkgs), urls, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, nil, fmt.Errorf("photontoolchain: Photon %s repositories: %w", p.Release, errors.Join(errs...))
}

// Resolve reads the repositories and resolves KernelBuild of the gcc that
// the compiler identification ident names.
func (p *Provisioner) Resolve(ctx context.Context, ident string) (toolchain.List, error) {
	list, _, err := p.resolve(ctx, ident)
	return list, err
}

// resolve is Resolve, with the URLs of the repositories it read.
func (p *Provisioner) resolve(ctx context.Context, ident string) (toolchain.List, []string, error) {
	v, err := GCCVersion(ident)
	if err != nil {
		return nil, nil, err
	}
	idx, repos, err := p.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	list, err := idx.Resolve(KernelBuild(v))
	if err != nil {
		return nil, nil, fmt.Errorf("photontoolchain: Photon %s toolchain with gcc %s: %w", p.Release, v, err)
	}
	return list, repos, nil
}

// Provision returns the root of list (from Resolve), building it when the
// cache lacks it. Roots whose packages were checked against signing keys
// are kept apart from unchecked ones, by the keys.
func (p *Provisioner) Provision(ctx context.Context, list toolchain.List) (*toolchain.Root, error) {
	c, err := p.cache()
	if err != nil {
		return nil, err
	}
	return c.Provision(ctx, list)
}

// cache is the cache of roots of the provisioner's trust: roots whose
// packages were checked against signing keys are kept apart, by the keys.
func (p *Provisioner) cache() (*toolchain.Cache, error) {
	if p.CacheDir == "" {
		return nil, errors.New("photontoolchain: Provisioner.CacheDir is not set")
	}
	trust := "unsigned"
	if len(p.SigningKeys) > 0 {
		sum := sha256.Sum256(p.SigningKeys)
		trust = "keys-" + hex.EncodeToString(sum[:8])
	}
	return &toolchain.Cache{Dir: filepath.Join(p.CacheDir, "roots", trust), Client: p.Client, Log: p.Log, Unpack: p.unpack}, nil
}

// ProvisionFor resolves and provisions the toolchain of the compiler ident
// names.
func (p *Provisioner) ProvisionFor(ctx context.Context, ident string) (*toolchain.Root, error) {
	list, err := p.Resolve(ctx, ident)
	if err != nil {
		return nil, err
	}
	return p.Provision(ctx, list)
}

// unpack checks one downloaded package (its SHA-256 and size were checked
// against the list) and extracts it into the root dir.
func (p *Provisioner) unpack(ctx context.Context, e toolchain.Entry, file, dir string) error {
	if len(p.SigningKeys) > 0 {
		if _, err := kernelsrc.VerifyRPMSignature(file, p.SigningKeys); err != nil {
			return err
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	// A mismatch found after extraction fails the build, whose temporary
	// root is then removed.
	res, err := rpmpkg.Extract(ctx, f, dir, nil)
	if err != nil {
		return err
	}
	info := res.Info
	if got := evr(fmt.Sprint(info.Epoch), info.Version, info.Release); info.Source || info.Name != e.Name || got != e.Version {
		return fmt.Errorf("%w: %s is listed as %s %s, its header says %s %s", ErrPackageMismatch, e.URL, e.Name, e.Version, info.Name, got)
	}
	return nil
}
