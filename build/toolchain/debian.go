// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/decompress"
)

// DebianKeyring is where Debian's debian-archive-keyring package keeps the
// archive's signing keys (bookworm's holds bullseye's and trixie's too).
const DebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// maxPackagesIndex bounds an uncompressed Packages index (bullseye's main
// amd64 one is 45 MB).
const maxPackagesIndex = 1 << 30

// Suite is one suite of a Debian archive.
type Suite struct {
	// URL is the archive's root ("http://deb.debian.org/debian").
	URL string
	// Name is the suite or codename ("bullseye", "bullseye-security").
	Name string
	// Components to read; nil means main.
	Components []string
}

// Bullseye is Debian 11's suites on deb.debian.org: the point release and
// its security updates.
func Bullseye() []Suite {
	return []Suite{
		{URL: "http://deb.debian.org/debian", Name: "bullseye"},
		{URL: "http://deb.debian.org/debian-security", Name: "bullseye-security"},
	}
}

// Bookworm is Debian 12's suites on deb.debian.org: the point release
// and its security updates.
func Bookworm() []Suite {
	return []Suite{
		{URL: "http://deb.debian.org/debian", Name: "bookworm"},
		{URL: "http://deb.debian.org/debian-security", Name: "bookworm-security"},
	}
}

// Debian resolves package sets against a Debian archive's signed indexes.
type Debian struct {
	Suites []Suite
	// Arch is the Debian architecture; "" means amd64.
	Arch string
	// Keyring holds the keys the archive must be signed with (see
	// ReadKeyring and DebianKeyring).
	Keyring openpgp.KeyRing
	// Client fetches; nil means http.DefaultClient.
	Client *http.Client
	// IndexCache, when set, keeps Packages indexes by their SHA-256, so a
	// rerun against unchanged metadata downloads only InRelease.
	IndexCache string
	// Now is the time signatures and Valid-Until are checked at; nil
	// means time.Now.
	Now func() time.Time
}

func (d *Debian) arch() string {
	if d.Arch == "" {
		return "amd64"
	}
	return d.Arch
}

// Index reads every suite's verified Packages indexes.
func (d *Debian) Index(ctx context.Context) (*Index, error) {
	if d.Keyring == nil {
		return nil, fmt.Errorf("%w: no keyring given", ErrBadSignature)
	}
	idx := newIndex()
	err := d.eachIndex(ctx, func(c string) string { return c + "/binary-" + d.arch() + "/" }, "Packages",
		func(_ string, base string, text []byte) (bool, error) { return false, idx.add(text, base) })
	if err != nil {
		return nil, err
	}
	idx.sort()
	return idx, nil
}

// eachIndex gives use the text of index (Packages, Sources) in the
// directory dir(component) of every suite and component, in order, each
// checked against its suite's verified InRelease, until use says stop.
// An error of use is wrapped with the suite and the index's path.
func (d *Debian) eachIndex(ctx context.Context, dir func(comp string) string, index string,
	use func(at, base string, text []byte) (stop bool, err error)) error {
	f := fetcher{client: d.Client}
	for _, s := range d.Suites {
		base := strings.TrimSuffix(s.URL, "/")
		rel, err := d.release(ctx, f, base, s.Name)
		if err != nil {
			return err
		}
		for _, c := range s.components() {
			text, err := d.signedIndex(ctx, f, base, s.Name, dir(c), index, rel)
			if err != nil {
				return err
			}
			stop, err := use(s.Name+"/"+c, base, text)
			if err != nil {
				return fmt.Errorf("%s %s%s: %w", s.Name, dir(c), index, err)
			}
			if stop {
				return nil
			}
		}
	}
	return nil
}

// components are the suite's components to read: main unless given.
func (s Suite) components() []string {
	if len(s.Components) == 0 {
		return []string{"main"}
	}
	return s.Components
}

// release fetches and verifies a suite's InRelease, at d.Now.
func (d *Debian) release(ctx context.Context, f fetcher, base, suite string) (*Release, error) {
	if d.Keyring == nil {
		return nil, fmt.Errorf("%w: no keyring given", ErrBadSignature)
	}
	data, err := f.get(ctx, base+"/dists/"+suite+"/InRelease", maxInRelease)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	return VerifyInRelease(data, suite, d.Keyring, now())
}

// signedIndex returns the uncompressed index file dir+name of a suite
// (Packages, Sources), fetched in the first compression InRelease lists
// and checked against it.
func (d *Debian) signedIndex(ctx context.Context, f fetcher, base, suite, dir, index string, rel *Release) ([]byte, error) {
	for _, v := range []struct {
		ext    string
		format decompress.Format
	}{{".xz", decompress.XZ}, {".gz", decompress.Gzip}, {"", decompress.None}} {
		name := dir + index + v.ext
		want, ok := rel.Files[name]
		if !ok {
			continue
		}
		url := base + "/dists/" + suite + "/" + name
		if rel.AcquireByHash {
			url = base + "/dists/" + suite + "/" + dir + "by-hash/SHA256/" + want.SHA256
		}
		raw, err := d.cachedIndex(ctx, f, url, want)
		var status *HTTPStatusError
		if errors.As(err, &status) && status.Status == http.StatusNotFound && rel.AcquireByHash {
			raw, err = d.cachedIndex(ctx, f, base+"/dists/"+suite+"/"+name, want)
		}
		if err != nil {
			return nil, err
		}
		return decompress.ReadAll(v.format, raw, &decompress.Limits{MaxSize: maxPackagesIndex})
	}
	return nil, fmt.Errorf("%s InRelease lists no %s%s index", suite, dir, index)
}

// cachedIndex returns the verified bytes of an index file, from
// IndexCache when it holds them.
func (d *Debian) cachedIndex(ctx context.Context, f fetcher, url string, want IndexFile) ([]byte, error) {
	var cached string
	if d.IndexCache != "" {
		cached = filepath.Join(d.IndexCache, want.SHA256)
		if data, err := os.ReadFile(cached); err == nil {
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) == want.SHA256 {
				return data, nil
			}
		}
	}
	data, err := f.get(ctx, url, want.Size)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if err := checkDigest(url, sum[:], int64(len(data)), want.SHA256, want.Size); err != nil {
		return nil, err
	}
	if cached != "" {
		if err := os.MkdirAll(d.IndexCache, 0o755); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(cached, data, 0o644); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Resolve reads the indexes and resolves want (see Index.Resolve).
func (d *Debian) Resolve(ctx context.Context, want []string) (List, error) {
	idx, err := d.Index(ctx)
	if err != nil {
		return nil, err
	}
	return idx.Resolve(want)
}
