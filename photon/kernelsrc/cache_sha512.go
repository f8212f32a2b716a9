// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// Repositories may give a package's SHA-512 instead of its SHA-256. The
// cache still files every object by SHA-256; <Dir>/sha512/<digest> holds
// the SHA-256 of the object verified against that SHA-512.

func (c *Cache) sha512IndexPath(sum string) string {
	return filepath.Join(c.Dir, "sha512", sum)
}

// lookupSHA512 returns the cached file whose SHA-512 was verified as sum.
func (c *Cache) lookupSHA512(sum, name string) (string, bool) {
	data, err := os.ReadFile(c.sha512IndexPath(sum))
	if err != nil {
		return "", false
	}
	sum256, err := parseSHA256(string(data))
	if err != nil {
		return "", false
	}
	return c.Lookup(sum256, name)
}

// recordSHA512 notes that the object with SHA-256 sum256 has SHA-512 sum512.
func (c *Cache) recordSHA512(sum512, sum256 string) error {
	return atomicfile.WriteFile(c.sha512IndexPath(sum512), []byte(sum256+"\n"), 0o644)
}

// commitSHA512 verifies the partial file against want, a SHA-512, and
// moves it into the cache. The SHA-512 record is written before the file
// is moved: a file in the cache always has the record that says how it
// was verified, and a record whose file never arrived finds nothing.
// Without a checksum of its own the file is not put in the name index.
func (c *Cache) commitSHA512(partial, name, want string) (string, error) {
	sum256, got, err := fileSHA256And512(partial)
	if err != nil {
		return "", err
	}
	if got != want {
		return "", &ChecksumError{File: name, Want: want, Got: got, Algo: "sha512"}
	}
	if err := c.recordSHA512(want, sum256); err != nil {
		return "", fmt.Errorf("recording its SHA-512: %w", err)
	}
	return c.place(partial, name, sum256)
}

// fileSHA256And512 hashes the file once for both digests.
func fileSHA256And512(path string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h256, h512 := sha256.New(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(h256, h512), f); err != nil {
		return "", "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h512.Sum(nil)), nil
}

// parseSHA512 normalises a hex SHA-512 digest.
func parseSHA512(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha512.Size {
		return "", fmt.Errorf("checksum %q is not a SHA-512 hex digest", s)
	}
	return s, nil
}
