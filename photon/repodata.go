package photon

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/klpkit/klpkit/internal/xzguard"
)

// ErrBadRepodata marks repository metadata (repomd.xml or its primary list)
// that cannot be parsed or does not match its own checksums.
var ErrBadRepodata = errors.New("photon: bad repository metadata")

// maxRepomdSize bounds repomd.xml, which is a few kilobytes in practice.
const maxRepomdSize = 4 << 20

// maxPrimarySize bounds the decompressed primary list (Photon's largest is a
// few tens of megabytes) so that a compression bomb cannot exhaust memory or disk.
const maxPrimarySize = 2 << 30

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
	Name    string
	Arch    string
	Epoch   string
	Version string
	Release string
	// Href is the package's path relative to the repository root.
	Href string
	// SHA256 is the package file's checksum in lower-case hex, or "" when the
	// list gives only another algorithm.
	SHA256 string
	// Size is the package file's size in bytes (0 when unknown).
	Size int64
}

// FileName is the base name of the package file.
func (p PackageEntry) FileName() string { return path.Base(p.Href) }

type primaryPackage struct {
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	} `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Size struct {
		Package int64 `xml:"package,attr"`
	} `xml:"size"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
}

// ParsePrimary streams a primary package list (primary.xml, decompressed
// already; see Decompress) and returns the packages for which keep returns
// true (all of them when keep is nil).
func ParsePrimary(r io.Reader, keep func(PackageEntry) bool) ([]PackageEntry, error) {
	dec := xml.NewDecoder(bufio.NewReader(io.LimitReader(r, maxPrimarySize)))
	var out []PackageEntry
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: primary list: %w", ErrBadRepodata, err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "metadata":
			sawRoot = true
			continue
		case "package":
		default:
			if err := dec.Skip(); err != nil {
				return nil, fmt.Errorf("%w: primary list: %w", ErrBadRepodata, err)
			}
			continue
		}
		var p primaryPackage
		if err := dec.DecodeElement(&p, &start); err != nil {
			return nil, fmt.Errorf("%w: primary list: %w", ErrBadRepodata, err)
		}
		entry, err := p.entry()
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(entry) {
			out = append(out, entry)
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%w: primary list has no <metadata> element", ErrBadRepodata)
	}
	return out, nil
}

func (p primaryPackage) entry() (PackageEntry, error) {
	e := PackageEntry{
		Name: p.Name, Arch: p.Arch,
		Epoch: p.Version.Epoch, Version: p.Version.Ver, Release: p.Version.Rel,
		Href: p.Location.Href, Size: p.Size.Package,
	}
	if e.Href == "" || !isCleanRelative(e.Href) {
		return PackageEntry{}, fmt.Errorf("%w: primary list: package %q has location %q, not a relative path inside the repository", ErrBadRepodata, p.Name, e.Href)
	}
	if e.Size < 0 {
		return PackageEntry{}, fmt.Errorf("%w: primary list: package %q has negative size %d", ErrBadRepodata, p.Name, e.Size)
	}
	if strings.EqualFold(p.Checksum.Type, "sha256") {
		sum, err := parseSHA256(p.Checksum.Value)
		if err != nil {
			return PackageEntry{}, fmt.Errorf("%w: primary list: package %q: %w", ErrBadRepodata, p.Name, err)
		}
		e.SHA256 = sum
	}
	return e, nil
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
// (.gz, .xz, .zst, .bz2, or none). Close the result to release the decoder.
func Decompress(name string, r io.Reader) (io.ReadCloser, error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRepodata, name, err)
		}
		return zr, nil
	case strings.HasSuffix(name, ".xz"):
		zr, err := xzguard.NewXZReader(r, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRepodata, name, err)
		}
		return io.NopCloser(zr), nil
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRepodata, name, err)
		}
		return zr.IOReadCloser(), nil
	case strings.HasSuffix(name, ".bz2"):
		return io.NopCloser(bzip2.NewReader(r)), nil
	case strings.HasSuffix(name, ".xml"):
		return io.NopCloser(r), nil
	}
	return nil, fmt.Errorf("%w: %s: unknown compression (want .xml, .gz, .xz, .zst or .bz2)", ErrBadRepodata, name)
}

// ReadPrimary checks the compressed primary list in data against its
// repomd.xml entry, then decompresses and parses it.
func ReadPrimary(entry RepoMDData, data []byte, keep func(PackageEntry) bool) ([]PackageEntry, error) {
	if strings.EqualFold(entry.Checksum.Type, "sha256") {
		want, err := parseSHA256(entry.Checksum.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: repomd.xml primary entry: %w", ErrBadRepodata, err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("%w: %s has sha256 %s, repomd.xml says %s", ErrBadRepodata, entry.Location.Href, got, want)
		}
	}
	rc, err := Decompress(entry.Location.Href, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	pkgs, err := ParsePrimary(rc, keep)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", entry.Location.Href, err)
	}
	return pkgs, nil
}
