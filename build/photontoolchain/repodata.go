// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// maxRepomd bounds repomd.xml, as package kernelsrc does.
const maxRepomd = 4 << 20

// Relation is one provides or requires entry: Name, and when versioned
// its operator (EQ, LT, GT, LE, GE, as primary.xml spells them) and EVR.
type Relation struct {
	Name, Flags, Epoch, Ver, Rel string
}

// String is the relation as rpm prints it ("libgcc = 12.2.0-2.ph5").
func (r Relation) String() string {
	if r.Flags == "" {
		return r.Name
	}
	return r.Name + " " + opText[r.Flags] + " " + evr(r.Epoch, r.Ver, r.Rel)
}

var opText = map[string]string{"EQ": "=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}

// Package is one package of a repository's primary list.
type Package struct {
	kernelsrc.PackageEntry
	// URL is where the package file is downloaded from.
	URL string
	// Provides and Requires are its relations; Files the paths the
	// primary list names (programs and /etc, as createrepo lists them).
	Provides, Requires []Relation
	Files              []string
}

// EVR is the package's [epoch:]version-release.
func (p *Package) EVR() string { return evr(p.Epoch, p.Version, p.Release) }

func evr(epoch, ver, rel string) string {
	s := ver
	if epoch != "" && epoch != "0" {
		s = epoch + ":" + s
	}
	if rel != "" {
		s += "-" + rel
	}
	return s
}

// readRepository reads one repository's verified primary list.
func readRepository(ctx context.Context, client *http.Client, repoURL string) ([]*Package, error) {
	repoURL = strings.TrimSuffix(repoURL, "/")
	mdURL := repoURL + "/repodata/repomd.xml"
	md, err := get(ctx, client, mdURL, maxRepomd)
	if err != nil {
		return nil, err
	}
	index, err := kernelsrc.ParseRepoMD(bytes.NewReader(md))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mdURL, err)
	}
	primary, err := index.Primary()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mdURL, err)
	}
	limit := int64(kernelsrc.DefaultMaxMetadataSize)
	if primary.Size > 0 {
		limit = primary.Size
	}
	primaryURL := repoURL + "/" + primary.Location.Href
	data, err := get(ctx, client, primaryURL, limit)
	if err != nil {
		return nil, err
	}
	// ReadPrimary checks the list against repomd.xml's checksum and reads
	// each package's identity, checksum and location.
	entries, err := kernelsrc.ReadPrimary(primary, data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", primaryURL, err)
	}
	rels, err := readRelations(primary.Location.Href, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", primaryURL, err)
	}
	if len(rels) != len(entries) {
		return nil, fmt.Errorf("%w: %s: %d packages, %d relation lists", kernelsrc.ErrBadRepodata, primaryURL, len(entries), len(rels))
	}
	out := make([]*Package, len(entries))
	for i, e := range entries {
		r := rels[i]
		if r.href != e.Href {
			return nil, fmt.Errorf("%w: %s: package %d is %s and %s", kernelsrc.ErrBadRepodata, primaryURL, i, e.Href, r.href)
		}
		out[i] = &Package{PackageEntry: e, URL: repoURL + "/" + e.Href, Provides: r.provides, Requires: r.requires, Files: r.files}
	}
	return out, nil
}

type relations struct {
	href               string
	provides, requires []Relation
	files              []string
}

type xmlEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
}

type xmlPackage struct {
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Format struct {
		Provides []xmlEntry `xml:"provides>entry"`
		Requires []xmlEntry `xml:"requires>entry"`
		Files    []string   `xml:"file"`
	} `xml:"format"`
}

// readRelations reads the provides, requires and files of each package of
// a primary list whose checksum was verified, in list order.
func readRelations(name string, data []byte) ([]relations, error) {
	rc, err := kernelsrc.Decompress(name, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var out []relations
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: primary list: %w", kernelsrc.ErrBadRepodata, err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "package" {
			continue
		}
		var p xmlPackage
		if err := dec.DecodeElement(&p, &start); err != nil {
			return nil, fmt.Errorf("%w: primary list: %w", kernelsrc.ErrBadRepodata, err)
		}
		r := relations{href: p.Location.Href, files: p.Format.Files}
		for _, e := range p.Format.Provides {
			r.provides = append(r.provides, Relation(e))
		}
		for _, e := range p.Format.Requires {
			r.requires = append(r.requires, Relation(e))
		}
		out = append(out, r)
	}
}

// get fetches url, at most max bytes.
func get(ctx context.Context, client *http.Client, url string, max int64) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", url, kernelsrc.ErrTooLarge, max)
	}
	return data, nil
}
