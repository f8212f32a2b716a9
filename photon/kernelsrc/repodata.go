// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/decompress"
)

// ErrBadRepodata marks repository metadata (repomd.xml or its primary list)
// that cannot be parsed or does not match its own checksums.
var ErrBadRepodata = errors.New("photon: bad repository metadata")

// maxRepomdSize bounds repomd.xml, which is a few kilobytes in practice.
const maxRepomdSize = 4 << 20

// RepoMD is the index of a yum repository (repodata/repomd.xml).
type RepoMD struct {
	Data []RepoMDData `xml:"data"`
}

// RepoMDData is one metadata file listed in repomd.xml.
type RepoMDData struct {
	Type     string `xml:"type,attr"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Size int64 `xml:"size"`
}

// ParseRepoMD reads repomd.xml.
func ParseRepoMD(r io.Reader) (*RepoMD, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRepomdSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: repomd.xml: %w", ErrBadRepodata, err)
	}
	if len(data) > maxRepomdSize {
		return nil, fmt.Errorf("%w: repomd.xml is larger than %d bytes", ErrBadRepodata, maxRepomdSize)
	}
	var md RepoMD
	if err := xml.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("%w: repomd.xml: %w", ErrBadRepodata, err)
	}
	return &md, nil
}

// Primary returns the entry of the primary package list.
func (m *RepoMD) Primary() (RepoMDData, error) {
	for _, d := range m.Data {
		if d.Type != "primary" {
			continue
		}
		href := d.Location.Href
		if href == "" || !isCleanRelative(href) {
			return RepoMDData{}, fmt.Errorf("%w: repomd.xml: primary location %q is not a relative path inside the repository", ErrBadRepodata, href)
		}
		return d, nil
	}
	return RepoMDData{}, fmt.Errorf("%w: repomd.xml lists no primary package list", ErrBadRepodata)
}

// PackageEntry is one package of the primary list.
type PackageEntry struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Epoch   string `json:"epoch"`
	Version string `json:"version"`
	Release string `json:"release"`
	// Href is the package's path relative to the repository root.
	Href string `json:"href"`
	// SHA256 is the package file's checksum in lower-case hex, or "" when
	// the list gives its SHA512 instead.
	SHA256 string `json:"sha256"`
	// Size is the package file's size in bytes (0 when unknown).
	Size int64 `json:"size"`
	// SHA512 is the package file's checksum when the list gives that one.
	SHA512 string `json:"sha512"`
}

// FileName is the base name of the package file.
func (p PackageEntry) FileName() string { return path.Base(p.Href) }

// Bounds of the streaming primary-list parser: memory stays proportional to
// the packages kept, whatever the list's size.
const (
	maxPrimaryToken = 16 << 20 // bytes read for one XML token (see ParsePrimary)
	maxPrimaryDepth = 64       // element nesting (real lists nest 5 deep)
	maxPrimaryField = 64 << 10 // text of a name, arch or checksum
)

// primaryPackage collects one <package> while its tokens stream by.
type primaryPackage struct {
	name, arch, epoch, ver, rel string
	csumType, csum              string
	hasCsum                     bool
	size                        int64
	href                        string
}

// ParsePrimary streams a primary package list (primary.xml, decompressed
// already; see Decompress) token by token and returns the packages for
// which keep returns true (all of them when keep is nil). Only kept packages
// stay in memory, and one XML token at a time: a token over 16 MiB (the
// text of one element: a description or changelog of that size is none a
// real package has) or nesting over 64 levels is refused, with the package
// and element named. A kept package must carry a sha256 or sha512 checksum.
func ParsePrimary(r io.Reader, keep func(PackageEntry) bool) ([]PackageEntry, error) {
	g := &tokenGuard{r: r}
	dec := xml.NewDecoder(g)
	bad := func(err error) error { return fmt.Errorf("%w: primary list: %w", ErrBadRepodata, err) }
	var out []PackageEntry
	sawRoot := false
	depth := 0
	var cur *primaryPackage
	var field *string // the package field whose text is being read
	elem := ""        // the element last started, for errors
	for {
		g.n = 0
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errTokenTooLong) && cur != nil {
			return nil, bad(fmt.Errorf("package %q: <%s> (or the markup after it): %w", cur.name, elem, err))
		}
		if err != nil {
			return nil, bad(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elem = t.Name.Local
			depth++
			if depth > maxPrimaryDepth {
				return nil, bad(fmt.Errorf("elements nested deeper than %d levels", maxPrimaryDepth))
			}
			switch {
			case depth == 1:
				if t.Name.Local != "metadata" {
					return nil, fmt.Errorf("%w: primary list has <%s> where <metadata> belongs", ErrBadRepodata, t.Name.Local)
				}
				sawRoot = true
			case depth == 2 && t.Name.Local == "package":
				cur = &primaryPackage{}
			case depth == 3 && cur != nil:
				if err := cur.start(t, &field); err != nil {
					return nil, bad(err)
				}
			}
		case xml.CharData:
			if field != nil && depth == 3 {
				if len(*field)+len(t) > maxPrimaryField {
					return nil, bad(fmt.Errorf("package %q: a field is longer than %d bytes", cur.name, maxPrimaryField))
				}
				*field += string(t)
			}
		case xml.EndElement:
			switch {
			case depth == 3:
				field = nil
			case depth == 2 && cur != nil:
				e, sumErr, err := cur.entry()
				if err != nil {
					return nil, err
				}
				if keep == nil || keep(e) {
					if sumErr != nil {
						return nil, sumErr
					}
					out = append(out, e)
				}
				cur = nil
			}
			depth--
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%w: primary list has no <metadata> element", ErrBadRepodata)
	}
	return out, nil
}

// start reads a direct child of <package>, pointing field at the value its
// text goes to.
func (p *primaryPackage) start(t xml.StartElement, field **string) error {
	attr := func(name string) string {
		for _, a := range t.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	switch t.Name.Local {
	case "name":
		p.name, *field = "", &p.name
	case "arch":
		p.arch, *field = "", &p.arch
	case "checksum":
		p.hasCsum, p.csumType = true, attr("type")
		p.csum, *field = "", &p.csum
	case "version":
		p.epoch, p.ver, p.rel = attr("epoch"), attr("ver"), attr("rel")
	case "size":
		if v := attr("package"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("package %q: size %q is not a number", p.name, v)
			}
			p.size = n
		}
	case "location":
		p.href = attr("href")
	}
	return nil
}

// entry checks the package; sumErr says why its checksum cannot be used,
// which matters only for a package that is kept.
func (p *primaryPackage) entry() (e PackageEntry, sumErr, err error) {
	e = PackageEntry{
		Name: p.name, Arch: p.arch,
		Epoch: p.epoch, Version: p.ver, Release: p.rel,
		Href: p.href, Size: p.size,
	}
	if e.Href == "" || !isCleanRelative(e.Href) {
		return PackageEntry{}, nil, fmt.Errorf("%w: primary list: package %q has location %q, not a relative path inside the repository", ErrBadRepodata, p.name, e.Href)
	}
	if e.Size < 0 {
		return PackageEntry{}, nil, fmt.Errorf("%w: primary list: package %q has negative size %d", ErrBadRepodata, p.name, e.Size)
	}
	if !p.hasCsum {
		return e, fmt.Errorf("%w: primary list: package %q (%s) has no checksum", ErrBadRepodata, p.name, e.Href), nil
	}
	algo, sum, err := parseChecksum(p.csumType, p.csum)
	if err != nil {
		return e, fmt.Errorf("%w: primary list: package %q (%s): %w", ErrBadRepodata, p.name, e.Href, err), nil
	}
	if algo == "sha512" {
		e.SHA512 = sum
	} else {
		e.SHA256 = sum
	}
	return e, nil, nil
}

var errTokenTooLong = fmt.Errorf("an XML token is longer than %d MiB", maxPrimaryToken>>20)

// tokenGuard fails a read once more than maxPrimaryToken bytes were read
// since n was last reset (before each token).
type tokenGuard struct {
	r io.Reader
	n int
}

func (g *tokenGuard) Read(p []byte) (int, error) {
	if g.n > maxPrimaryToken {
		return 0, errTokenTooLong
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}

// parseChecksum accepts only sha256 and sha512 and returns the algorithm
// and the normalised hex digest.
func parseChecksum(typ, value string) (algo, sum string, err error) {
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case "sha256":
		sum, err = parseSHA256(value)
		return "sha256", sum, err
	case "sha512":
		sum, err = parseSHA512(value)
		return "sha512", sum, err
	}
	return "", "", fmt.Errorf("checksum type %q is not accepted (only sha256 and sha512)", typ)
}

// parseSHA256 normalises a hex SHA-256 digest.
func parseSHA256(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("checksum %q is not a SHA-256 hex digest", s)
	}
	return s, nil
}

// isCleanRelative reports whether p is a relative slash path that stays
// inside its root.
func isCleanRelative(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

// Decompress wraps r with the decompressor the metadata file name calls for
// (.gz, .xz, .zst, .bz2, or none). Reading more than DefaultMaxMetadataSize
// decompressed bytes fails with a *SizeError. Close the result to release
// the decoder.
func Decompress(name string, r io.Reader) (io.ReadCloser, error) {
	return decompressMetadata(name, r, DefaultMaxMetadataSize)
}

// metadataFormats maps a metadata file's suffix to its compression.
var metadataFormats = []struct {
	suffix string
	format decompress.Format
}{
	{".gz", decompress.Gzip},
	{".xz", decompress.XZ},
	{".zst", decompress.Zstd},
	{".bz2", decompress.Bzip2},
	{".xml", decompress.None},
}

// decompressMetadata is Decompress failing past limit decompressed bytes.
// The xz dictionary and the zstd window are bounded at decompress's
// default (64 MiB, xz -9's): repository tools compress far below it.
func decompressMetadata(name string, r io.Reader, limit int64) (io.ReadCloser, error) {
	for _, m := range metadataFormats {
		if !strings.HasSuffix(name, m.suffix) {
			continue
		}
		rc, err := decompress.NewReader(m.format, r, &decompress.Limits{MaxSize: limit, TooLarge: func() error {
			return &SizeError{File: name, Limit: limit, Source: "DownloadOptions.MaxMetadataSize", Decompressed: true}
		}})
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRepodata, name, err)
		}
		return rc, nil
	}
	return nil, fmt.Errorf("%w: %s: unknown compression (want .xml, .gz, .xz, .zst or .bz2)", ErrBadRepodata, name)
}

// ReadPrimary checks the compressed primary list in data against its
// repomd.xml entry (sha256 or sha512; anything else is refused), then
// decompresses it (at most DefaultMaxMetadataSize bytes) and parses it.
func ReadPrimary(entry RepoMDData, data []byte, keep func(PackageEntry) bool) ([]PackageEntry, error) {
	if err := verifyMetadata(entry, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return parseVerifiedPrimary(entry, bytes.NewReader(data), DefaultMaxMetadataSize, keep)
}

// metadataChecksum is entry's checksum, if of an accepted type.
func metadataChecksum(entry RepoMDData) (algo, sum string, err error) {
	href := entry.Location.Href
	if entry.Checksum.Type == "" && strings.TrimSpace(entry.Checksum.Value) == "" {
		return "", "", fmt.Errorf("%w: repomd.xml: %s has no checksum", ErrBadRepodata, href)
	}
	algo, sum, err = parseChecksum(entry.Checksum.Type, entry.Checksum.Value)
	if err != nil {
		return "", "", fmt.Errorf("%w: repomd.xml: %s: %w", ErrBadRepodata, href, err)
	}
	return algo, sum, nil
}

// verifyMetadata compares the compressed bytes in r with entry's checksum.
func verifyMetadata(entry RepoMDData, r io.Reader) error {
	href := entry.Location.Href
	algo, want, err := metadataChecksum(entry)
	if err != nil {
		return err
	}
	h := sha256.New()
	if algo == "sha512" {
		h = sha512.New()
	}
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadRepodata, href, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s has %s %s, repomd.xml says %s", ErrBadRepodata, href, algo, got, want)
	}
	return nil
}

// parseVerifiedPrimary decompresses and parses a primary list whose
// checksum was verified, failing once it inflates beyond limit bytes.
func parseVerifiedPrimary(entry RepoMDData, r io.Reader, limit int64, keep func(PackageEntry) bool) ([]PackageEntry, error) {
	href := entry.Location.Href
	rc, err := decompressMetadata(href, r, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	pkgs, err := ParsePrimary(rc, keep)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", href, err)
	}
	return pkgs, nil
}
