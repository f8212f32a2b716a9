// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// Cache is a directory of downloaded packages keyed by their SHA-256:
//
//	<Dir>/sha256/<digest>/<file name>   complete, verified files
//	<Dir>/names/<file name>             digest of a file fetched without a known checksum
//	<Dir>/sha512/<sha512 digest>        sha256 of a file verified against that SHA-512
//	<Dir>/partial/<key>.part            downloads in progress (resumable)
//	<Dir>/locks/<key>.lock              held while a download is in progress
//
// A file appears under sha256/ only by a rename after its checksum was
// verified, so an interrupted run never leaves a file that looks complete.
type Cache struct {
	Dir string
}

func (c *Cache) objectPath(sum, name string) string {
	return filepath.Join(c.Dir, "sha256", sum, name)
}

func (c *Cache) partialPath(key string) string {
	return filepath.Join(c.Dir, "partial", key+".part")
}

func (c *Cache) lockPath(key string) string {
	return filepath.Join(c.Dir, "locks", key+".lock")
}

func (c *Cache) namePath(name string) string {
	return filepath.Join(c.Dir, "names", name)
}

// Lookup returns the cached file with digest sum, if present.
func (c *Cache) Lookup(sum, name string) (string, bool) {
	p := c.objectPath(sum, name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// LookupName returns the cached file last fetched as name without a known
// checksum, and its digest.
func (c *Cache) LookupName(name string) (path, sum string, ok bool) {
	data, err := os.ReadFile(c.namePath(name))
	if err != nil {
		return "", "", false
	}
	sum, err = parseSHA256(string(data))
	if err != nil {
		return "", "", false
	}
	path, ok = c.Lookup(sum, name)
	return path, sum, ok
}

// commit verifies the partial file and moves it into place. want may be
// empty when no checksum is known; the name index is written then.
func (c *Cache) commit(partial, name, want string) (string, string, error) {
	got, err := fileSHA256(partial)
	if err != nil {
		return "", "", err
	}
	if want != "" && got != want {
		return "", got, &ChecksumError{File: name, Want: want, Got: got}
	}
	dst, err := c.place(partial, name, got)
	if err != nil {
		return "", got, err
	}
	if want == "" {
		if err := atomicfile.WriteFile(c.namePath(name), []byte(got+"\n"), 0o644); err != nil {
			return "", got, err
		}
	}
	return dst, got, nil
}

// place moves a verified partial file to its object path.
func (c *Cache) place(partial, name, sum256 string) (string, error) {
	dst := c.objectPath(sum256, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(partial, dst); err != nil {
		return "", err
	}
	return dst, nil
}

// ErrChecksumMismatch is returned when a file's SHA-256 differs from the
// repository metadata's.
var ErrChecksumMismatch = errors.New("photon: checksum mismatch")

// ChecksumError names the file and both digests.
type ChecksumError struct {
	File string `json:"file"`
	URL  string `json:"url"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Algo string `json:"algo"` // "sha512", or "" for sha256
}

func (e *ChecksumError) Error() string {
	where := e.File
	if e.URL != "" {
		where += " from " + e.URL
	}
	algo := e.Algo
	if algo == "" {
		algo = "sha256"
	}
	return fmt.Sprintf("photon: checksum mismatch: %s has %s %s, the repository metadata says %s", where, algo, e.Got, e.Want)
}

func (e *ChecksumError) Unwrap() error { return ErrChecksumMismatch }

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// partialKey names the partial download of a file: by digest when known.
func partialKey(name, sum string) string {
	if sum != "" {
		return sum
	}
	return "name-" + strings.ReplaceAll(name, string(filepath.Separator), "_")
}
