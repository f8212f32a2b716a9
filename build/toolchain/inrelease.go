// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var (
	// ErrBadSignature: repository metadata is unsigned, signed by no
	// trusted key, or its signature does not verify.
	ErrBadSignature = errors.New("toolchain: repository signature check failed")
	// ErrChecksumMismatch: a downloaded file's SHA-256 or size differs from
	// what the signed metadata says.
	ErrChecksumMismatch = errors.New("toolchain: checksum mismatch")
	// ErrStaleMetadata: the metadata is past its Valid-Until, or names
	// another suite than the one asked for (a replay).
	ErrStaleMetadata = errors.New("toolchain: stale or substituted repository metadata")
)

// Release is the signed part of a suite's InRelease that the resolver
// uses: which suite it is and the SHA-256 and size of each index file.
type Release struct {
	Suite, Codename string
	Date            time.Time
	ValidUntil      time.Time // zero when the suite sets none
	// AcquireByHash: index files are also under by-hash/SHA256/<sum>
	// beside their names, where a mirror update cannot swap them.
	AcquireByHash bool
	// Files maps paths relative to dists/<suite>/ ("main/binary-amd64/
	// Packages.xz") to their digests.
	Files map[string]IndexFile
}

// IndexFile is one line of InRelease's SHA256 field.
type IndexFile struct {
	SHA256 string
	Size   int64
}

// ReadKeyring reads OpenPGP public keys, binary (as in
// /usr/share/keyrings/*.gpg) or armored.
func ReadKeyring(data []byte) (openpgp.EntityList, error) {
	ring, err := openpgp.ReadKeyRing(bytes.NewReader(data))
	if err != nil {
		ring, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the trusted keys: %w", ErrBadSignature, err)
	}
	if len(ring) == 0 {
		return nil, fmt.Errorf("%w: no trusted keys given", ErrBadSignature)
	}
	return ring, nil
}

// VerifyInRelease checks the clearsigned InRelease data of suite against
// keyring at time now and parses its signed text. Only the signed text is
// read: anything around the signed block is ignored.
func VerifyInRelease(data []byte, suite string, keyring openpgp.KeyRing, now time.Time) (*Release, error) {
	block, _ := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: %s InRelease holds no clearsigned message", ErrBadSignature, suite)
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	if _, err := block.VerifySignature(keyring, cfg); err != nil {
		return nil, fmt.Errorf("%w: %s InRelease: %w", ErrBadSignature, suite, err)
	}
	rel, err := parseRelease(block.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("%s InRelease: %w", suite, err)
	}
	if rel.Suite != suite && rel.Codename != suite {
		return nil, fmt.Errorf("%w: asked for suite %s, InRelease is for %s (%s)", ErrStaleMetadata, suite, rel.Codename, rel.Suite)
	}
	if !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		return nil, fmt.Errorf("%w: %s InRelease expired at %s", ErrStaleMetadata, suite, rel.ValidUntil.Format(time.RFC1123))
	}
	return rel, nil
}

// parseRelease reads a Release file's fields.
func parseRelease(text []byte) (*Release, error) {
	var rel *Release
	err := parseControl(text, func(p paragraph) error {
		if rel != nil {
			return errors.New("more than one paragraph")
		}
		rel = &Release{Suite: p["Suite"], Codename: p["Codename"], AcquireByHash: p["Acquire-By-Hash"] == "yes", Files: map[string]IndexFile{}}
		var err error
		if rel.Date, err = parseReleaseDate(p["Date"]); err != nil {
			return fmt.Errorf("field Date: %w", err)
		}
		if v := p["Valid-Until"]; v != "" {
			if rel.ValidUntil, err = parseReleaseDate(v); err != nil {
				return fmt.Errorf("field Valid-Until: %w", err)
			}
		}
		for _, line := range strings.Split(p["SHA256"], "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if len(f) != 3 || !isSHA256(f[0]) {
				return fmt.Errorf("SHA256: malformed line %q", truncate(line, 120))
			}
			size, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || size < 0 {
				return fmt.Errorf("SHA256: bad size in %q", truncate(line, 120))
			}
			rel.Files[f[2]] = IndexFile{SHA256: strings.ToLower(f[0]), Size: size}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rel == nil || len(rel.Files) == 0 {
		return nil, errors.New("no SHA256 file list")
	}
	return rel, nil
}

func parseReleaseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 2822 date", s)
}

func isSHA256(s string) bool { return isHex(s, 64) }

// isHex says whether s is n hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(strings.ToLower(s)) {
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
