// SPDX-License-Identifier: Apache-2.0

package photon

import (
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

// checkSHA512 compares the file's SHA-512 with want.
func checkSHA512(path, name, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hashing %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return &ChecksumError{File: name, Want: want, Got: got, Algo: "sha512"}
	}
	return nil
}

// parseSHA512 normalises a hex SHA-512 digest.
func parseSHA512(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha512.Size {
		return "", fmt.Errorf("checksum %q is not a SHA-512 hex digest", s)
	}
	return s, nil
}
