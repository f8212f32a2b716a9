// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/flock"
)

// Cache holds toolchain roots under Dir, one directory per List key.
type Cache struct {
	Dir string
	// Client fetches the .debs; nil means http.DefaultClient.
	Client *http.Client
	// Log, when set, hears of downloads and completed roots.
	Log *slog.Logger
	// Unpack, when set, unpacks each downloaded package file (its size
	// and SHA-256 or SHA-512 checked against the list) into the root directory dir
	// instead of reading it as a .deb: another distribution's packages
	// (Photon's RPMs, see build/photontoolchain) in the same cached,
	// locked, list-keyed roots.
	Unpack func(ctx context.Context, e Entry, file, dir string) error
}

// Root is a provisioned toolchain root.
type Root struct {
	// Dir is the root directory.
	Dir string
	// List is what it holds.
	List List
}

// RootDir is the directory the root of list has, or would have, in the
// cache: nothing is read or made.
func (c *Cache) RootDir(list List) string { return filepath.Join(c.Dir, list.Key()) }

// Lookup returns the complete root of list if the cache holds it.
func (c *Cache) Lookup(list List) (*Root, bool) {
	dir := c.RootDir(list)
	data, err := os.ReadFile(filepath.Join(dir, ListFile))
	if err != nil || string(data) != list.String() {
		return nil, false
	}
	return &Root{Dir: dir, List: list}, true
}

// Provision returns the root of list, building it when the cache lacks
// it: each package is downloaded, checked against the list's size and
// SHA-256 (or SHA-512) and unpacked, in list order, into a temporary directory that is
// renamed into place when complete. Concurrent calls for one list wait on
// a lock and share the result.
func (c *Cache) Provision(ctx context.Context, list List) (*Root, error) {
	if c.Dir == "" {
		return nil, errors.New("toolchain: Cache.Dir is not set")
	}
	if len(list) == 0 {
		return nil, errors.New("toolchain: empty package list")
	}
	for _, e := range list {
		if err := e.checkDigestFields(); err != nil {
			return nil, fmt.Errorf("toolchain: %w", err)
		}
	}
	if r, ok := c.Lookup(list); ok {
		return r, nil
	}
	key := list.Key()
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := flock.Lock(ctx, filepath.Join(c.Dir, key+".lock"), 0o644)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r, ok := c.Lookup(list); ok { // another process built it meanwhile
		return r, nil
	}
	final := filepath.Join(c.Dir, key)
	// Leftovers of an interrupted build of this key (we hold its lock).
	if err := removeTree(final); err != nil {
		return nil, err
	}
	stale, _ := filepath.Glob(filepath.Join(c.Dir, ".tmp-"+key+"-*"))
	for _, s := range stale {
		if err := removeTree(s); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(c.Dir, ".tmp-"+key+"-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = removeTree(tmp)
		}
	}()
	if err := c.build(ctx, list, tmp); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ListFile), []byte(list.String()), 0o644); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	// Never over a directory that appeared at final meanwhile.
	if err := atomicfile.RenameNoReplace(tmp, final); err != nil {
		return nil, err
	}
	ok = true
	if c.Log != nil {
		c.Log.Info("toolchain root ready", "dir", final, "packages", len(list))
	}
	return &Root{Dir: final, List: list}, nil
}

func (c *Cache) build(ctx context.Context, list List, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	x := &extractor{root: root}
	f := fetcher{client: c.Client}
	downloads, err := os.MkdirTemp(c.Dir, ".debs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(downloads)
	for _, e := range list {
		deb := filepath.Join(downloads, e.Name+".pkg")
		if c.Log != nil {
			c.Log.Info("fetching", "package", e.Name, "version", e.Version, "bytes", e.Size)
		}
		if err := f.getVerified(ctx, e.URL, deb, e.digest(), e.Size); err != nil {
			return fmt.Errorf("%s %s: %w", e.Name, e.Version, err)
		}
		if c.Unpack != nil {
			err = c.Unpack(ctx, e, deb, dir)
		} else {
			err = extractFile(ctx, deb, x)
		}
		if err != nil {
			return fmt.Errorf("%s %s (%s): %w", e.Name, e.Version, e.URL, err)
		}
		os.Remove(deb)
	}
	if err := makeAlternatives(root); err != nil {
		return err
	}
	return checkLinks(dir)
}

func extractFile(ctx context.Context, deb string, x *extractor) error {
	f, err := os.Open(deb)
	if err != nil {
		return err
	}
	defer f.Close()
	return extractDeb(ctx, f, x)
}

// removeTree removes dir, first making its directories writable (the
// packages' own modes may not be).
func removeTree(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// VersionLine returns the first line of `prog --version` run inside the
// root (what kbuild records as CONFIG_CC_VERSION_TEXT).
func (r *Root) VersionLine(ctx context.Context, prog string) (string, error) {
	out, err := r.Output(ctx, nil, "", prog, "--version")
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}
