// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/decompress"
	"github.com/klpkit/klpkit/photon"
)

// Public roots of Photon's package repositories. Both hosts serve the same
// paths; kpatch moved to the Broadcom host in 2026, so it is tried first.
const (
	BroadcomBaseURL = "https://packages.broadcom.com/photon"
	VMwareBaseURL   = "https://packages.vmware.com/photon"
)

// DefaultBaseURLs returns the public repository roots, in the order tried.
func DefaultBaseURLs() []string { return []string{BroadcomBaseURL, VMwareBaseURL} }

// PackageKind tells the packages of a kernel apart.
type PackageKind int

const (
	// SourcePackage is the kernel's source RPM (spec, tarball, patches, configs).
	SourcePackage PackageKind = iota
	// DebuginfoPackage is the kernel's x86_64 debuginfo RPM (vmlinux).
	DebuginfoPackage
)

func (p PackageKind) String() string {
	switch p {
	case DebuginfoPackage:
		return "debuginfo RPM"
	case DevelPackage:
		return "devel RPM"
	}
	return "source RPM"
}

// FileName is the package file of kernel k.
func (p PackageKind) FileName(k photon.Kernel) string {
	switch p {
	case DebuginfoPackage:
		return k.DebuginfoRPM()
	case DevelPackage:
		return k.DevelRPM()
	}
	return k.SourceRPM()
}

// RepoPath is the repository directory of kind p for release r, relative
// to a base URL: "4.0/photon_srpms_4.0_x86_64",
// "4.0/photon_debuginfo_4.0_x86_64" or, for a devel RPM, the updates
// repository "4.0/photon_updates_4.0_x86_64" (Fetch also looks in
// photon_release_4.0_x86_64, which holds the release's GA kernels).
func (p PackageKind) RepoPath(r photon.Release) string {
	kind := "srpms"
	switch p {
	case DebuginfoPackage:
		kind = "debuginfo"
	case DevelPackage:
		kind = "updates"
	}
	return fmt.Sprintf("%s/photon_%s_%s_x86_64", r, kind, r)
}

// PackagePath is the conventional path of k's package file inside its
// repository directory (binary RPMs sit in an x86_64/ subdirectory).
func (p PackageKind) PackagePath(k photon.Kernel) string {
	if p == DebuginfoPackage || p == DevelPackage {
		return "x86_64/" + p.FileName(k)
	}
	return p.FileName(k)
}

// Repo says where a kernel's source and debuginfo RPMs come from. The zero
// value fetches from the public hosts; CacheDir must be set for downloads.
type Repo struct {
	// SourceRPMPath and DebuginfoRPMPath are local files to use as they are
	// (auto_livepatch.sh's -s and -v, SRC_RPM_LOCAL_PATH); DevelRPMPath
	// likewise for the devel RPM.
	SourceRPMPath, DebuginfoRPMPath, DevelRPMPath string
	// Dir is a local directory holding the RPMs, either flat or in the
	// repository layout (<Dir>/4.0/photon_srpms_4.0_x86_64/...). A package
	// found there is used as it is. With Dir set and BaseURLs nil the Repo is
	// offline: a package missing from Dir is ErrPackageNotFound.
	Dir string
	// BaseURLs are repository roots (a mirror, or the public hosts) tried in
	// order; nil means DefaultBaseURLs.
	BaseURLs []string
	// NoMetadata skips repodata and goes straight to the known file names
	// (no checksum verification then).
	NoMetadata bool
	// CacheDir holds downloads (see Cache).
	CacheDir string
	// SigningKeys, when set, are the trusted OpenPGP public keys (armored or
	// binary, e.g. Photon's VMWARE-RPM-GPG-KEY): every package Fetch returns,
	// local or downloaded, must carry a valid signature by one of them
	// (see VerifyRPMSignature).
	SigningKeys []byte
	// Download tunes HTTP fetching, retries and progress.
	Download *DownloadOptions
}

func (r *Repo) baseURLs() []string {
	if len(r.BaseURLs) > 0 {
		return r.BaseURLs
	}
	return DefaultBaseURLs()
}

// Fetch returns a local path to kernel k's package of the given kind:
// the explicit file, a file in Dir, or a verified download in the cache.
func (r *Repo) Fetch(ctx context.Context, k photon.Kernel, kind PackageKind) (string, error) {
	p, err := r.fetch(ctx, k, kind)
	if err != nil || len(r.SigningKeys) == 0 {
		return p, err
	}
	if _, err := VerifyRPMSignature(p, r.SigningKeys); err != nil {
		return "", err
	}
	return p, nil
}

func (r *Repo) fetch(ctx context.Context, k photon.Kernel, kind PackageKind) (string, error) {
	if p, ok, err := r.local(k, kind); ok || err != nil {
		return p, err
	}
	req, err := r.Locate(ctx, k, kind)
	if err != nil {
		return "", err
	}
	if r.CacheDir == "" {
		return "", fmt.Errorf("photon: fetch %s: Repo.CacheDir is not set", req.File)
	}
	if !req.digestKnown() {
		// No metadata to check against: at least require a self-consistent
		// RPM (header and payload digests) before caching it.
		req.Verify = func(p string) error { return verifyRPMDigests(ctx, p) }
	}
	c := &Cache{Dir: r.CacheDir}
	return c.Download(ctx, req, r.Download)
}

// local finds the package in the explicit paths or in Dir.
func (r *Repo) local(k photon.Kernel, kind PackageKind) (string, bool, error) {
	explicit := r.SourceRPMPath
	switch kind {
	case DebuginfoPackage:
		explicit = r.DebuginfoRPMPath
	case DevelPackage:
		explicit = r.DevelRPMPath
	}
	if explicit != "" {
		fi, err := os.Stat(explicit)
		if err != nil {
			return "", false, fmt.Errorf("photon: local %s for %s: %w", kind, k, err)
		}
		if !fi.Mode().IsRegular() {
			return "", false, fmt.Errorf("photon: local %s for %s: %s is not a regular file", kind, k, explicit)
		}
		return explicit, true, nil
	}
	if r.Dir == "" {
		return "", false, nil
	}
	candidates := []string{filepath.Join(r.Dir, kind.FileName(k))}
	for _, dir := range kind.repoPaths(k.Release()) {
		candidates = append(candidates, filepath.Join(r.Dir, filepath.FromSlash(dir+"/"+kind.PackagePath(k))))
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true, nil
		}
	}
	if len(r.BaseURLs) == 0 {
		// A local directory alone means offline: do not silently go online.
		return "", false, &NotFoundError{File: kind.FileName(k), What: kind.String(), Release: k.Release(), URLs: []string{r.Dir}}
	}
	return "", false, nil
}

// Locate works out where to download k's package from and, when the
// repository metadata lists it, its SHA-256 and size.
func (r *Repo) Locate(ctx context.Context, k photon.Kernel, kind PackageKind) (DownloadRequest, error) {
	req := DownloadRequest{File: kind.FileName(k), What: kind.String(), Release: k.Release()}
	var fallback []string
	var hostErrs []error
	for _, base := range r.baseURLs() {
		for _, dir := range kind.repoPaths(k.Release()) {
			repoURL := strings.TrimSuffix(base, "/") + "/" + dir
			if !r.NoMetadata && !req.digestKnown() {
				entry, found, err := r.lookupMetadata(ctx, repoURL, req.File)
				if ctx.Err() != nil {
					return req, ctx.Err()
				}
				if err != nil {
					// An unreachable host or broken metadata on one host (the
					// VMware and Broadcom hosts mirror each other) must not stop
					// the fetch from the other: skip this host, say why if no
					// other one serves the package.
					hostErrs = append(hostErrs, err)
					continue
				}
				if found {
					req.URLs = append(req.URLs, repoURL+"/"+entry.Href)
					req.SHA256, req.SHA512, req.Size = entry.SHA256, entry.SHA512, entry.Size
					continue
				}
			}
			fallback = append(fallback, repoURL+"/"+kind.PackagePath(k))
		}
	}
	for _, u := range fallback {
		if !contains(req.URLs, u) {
			req.URLs = append(req.URLs, u)
		}
	}
	if len(req.URLs) == 0 && len(hostErrs) > 0 {
		return req, fmt.Errorf("%s %s: no repository could be read: %w", req.What, req.File, errors.Join(hostErrs...))
	}
	return req, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lookupMetadata reads repoURL's repodata and finds the package file name.
// A repository without repodata (404) is not an error: found is false.
// The primary list goes to a temporary file, capped at the size repomd.xml
// declares, and is checked against repomd.xml's checksum before it is
// decompressed and parsed.
func (r *Repo) lookupMetadata(ctx context.Context, repoURL, file string) (PackageEntry, bool, error) {
	o := r.Download.withDefaults()
	mdURL := repoURL + "/repodata/repomd.xml"
	var md bytes.Buffer
	err := getMetadata(ctx, mdURL, &memSink{&md}, sizeLimit{max: maxRepomdSize, source: "the limit for repomd.xml"}, &o)
	if errors.Is(err, errHTTPNotFound) {
		return PackageEntry{}, false, nil
	}
	if err != nil {
		return PackageEntry{}, false, err
	}
	index, err := ParseRepoMD(&md)
	if err != nil {
		return PackageEntry{}, false, fmt.Errorf("%s: %w", mdURL, err)
	}
	primary, err := index.Primary()
	if err != nil {
		return PackageEntry{}, false, fmt.Errorf("%s: %w", mdURL, err)
	}
	// Refuse an unusable checksum before fetching anything.
	if _, _, err := metadataChecksum(primary); err != nil {
		return PackageEntry{}, false, fmt.Errorf("%s: %w", mdURL, err)
	}
	primaryURL := repoURL + "/" + primary.Location.Href
	limit := sizeLimit{max: o.MaxMetadataSize, source: "DownloadOptions.MaxMetadataSize"}
	if primary.Size > 0 {
		limit = sizeLimit{max: primary.Size, declared: true, source: "repomd.xml"}
	}
	tmpDir := ""
	if r.CacheDir != "" {
		tmpDir = filepath.Join(r.CacheDir, "partial")
		if err := os.MkdirAll(tmpDir, 0o755); err != nil {
			return PackageEntry{}, false, err
		}
	}
	f, err := os.CreateTemp(tmpDir, "repodata-*.part")
	if err != nil {
		return PackageEntry{}, false, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := getMetadata(ctx, primaryURL, fileSink{f}, limit, &o); err != nil {
		if errors.Is(err, errHTTPNotFound) {
			return PackageEntry{}, false, fmt.Errorf("%w: %s lists %s, which is missing (HTTP 404)", ErrBadRepodata, mdURL, primaryURL)
		}
		if errors.Is(err, ErrTooLarge) {
			return PackageEntry{}, false, fmt.Errorf("%w: %w", ErrBadRepodata, err)
		}
		return PackageEntry{}, false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return PackageEntry{}, false, err
	}
	if err := verifyMetadata(primary, bufio.NewReader(f)); err != nil {
		return PackageEntry{}, false, fmt.Errorf("%s: %w", primaryURL, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return PackageEntry{}, false, err
	}
	pkgs, err := parseVerifiedPrimary(primary, bufio.NewReader(f), o.MaxMetadataSize, func(p PackageEntry) bool { return p.FileName() == file })
	if err != nil {
		return PackageEntry{}, false, fmt.Errorf("%s: %w", primaryURL, err)
	}
	if len(pkgs) == 0 {
		return PackageEntry{}, false, nil
	}
	return pkgs[0], true, nil
}

// sizeLimit caps a metadata body.
type sizeLimit struct {
	max      int64
	declared bool
	source   string
}

func (l sizeLimit) err(url string, announced int64) error {
	return &SizeError{File: path.Base(url), URL: url, Limit: l.max, Declared: l.declared, Source: l.source, Announced: announced}
}

// sink receives a metadata body; reset drops what an earlier attempt wrote.
type sink interface {
	io.Writer
	reset() error
}

type memSink struct{ *bytes.Buffer }

func (m *memSink) reset() error { m.Reset(); return nil }

type fileSink struct{ *os.File }

func (f fileSink) reset() error { return restart(f.File) }

// getMetadata fetches a metadata file into dst, retrying transient errors.
func getMetadata(ctx context.Context, url string, dst sink, limit sizeLimit, o *DownloadOptions) error {
	wait := o.Backoff
	var last error
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if err := dst.reset(); err != nil {
			return err
		}
		err := getOnce(ctx, url, dst, limit, o)
		if err == nil {
			return nil
		}
		var te *transientError
		if !errors.As(err, &te) {
			return err
		}
		last = err
		if attempt == o.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("photon: fetch %s: %w", url, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, o.MaxBackoff)
	}
	return fmt.Errorf("photon: fetch %s failed after %d attempts: %w", url, o.Attempts, last)
}

func getOnce(ctx context.Context, url string, dst io.Writer, limit sizeLimit, o *DownloadOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("photon: fetch %s: %w", url, err)
	}
	watch := newStallWatch(o.StallTimeout, cancel)
	defer watch.stop()
	resp, err := o.Client.Do(req)
	dr := DownloadRequest{File: path.Base(url)}
	if err != nil {
		return wrapAttemptErr(dr, url, watch, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errHTTPNotFound
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &transientError{fmt.Errorf("photon: fetch %s: %s", url, resp.Status)}
	default:
		return fmt.Errorf("photon: fetch %s: %s", url, resp.Status)
	}
	if resp.ContentLength > limit.max {
		return limit.err(url, resp.ContentLength)
	}
	pw := &progressWriter{w: dst, watch: watch}
	body := decompress.Cap(resp.Body, limit.max, func() error { return limit.err(url, -1) })
	n, err := io.Copy(pw, body)
	if err != nil {
		var se *SizeError
		if errors.As(err, &se) {
			return err
		}
		return wrapAttemptErr(dr, url, watch, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return &transientError{fmt.Errorf("photon: fetch %s: got %d of %d bytes", url, n, resp.ContentLength)}
	}
	return nil
}
