package rpmpkg

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/cavaliergopher/rpm"
)

// Info is what Read and Inspect report about a package.
type Info struct {
	Name, Version, Release string
	Epoch                  int // 0 when absent
	Arch, OS               string
	// Source is true for source packages (no SOURCERPM tag, as rpm decides).
	Source    bool
	SourceRPM string

	Summary, Description                  string
	License, Vendor, Group, URL, Packager string
	Distribution, BuildHost               string
	BuildTime                             time.Time

	// PayloadFormat is "cpio"; PayloadCompressor "gzip", "xz", "lzma",
	// "zstd" or "" (uncompressed).
	PayloadFormat, PayloadCompressor string

	Requires, Provides, Conflicts, Obsoletes []string
	Files                                    []FileInfo
	Scripts                                  Scriptlets
	// Signed: the package carries OpenPGP signatures (not verified here;
	// rpmkeys -K with the vendor key does that).
	Signed  bool
	Digests Digests
}

// Digests are the package digests and whether they were checked. A digest
// that does not match is an error (ErrDigestMismatch), never a false here.
type Digests struct {
	// HeaderSHA256 is signature tag 273 (hex); HeaderVerified is set when
	// it (or, without it, the SHA1 tag 269) matched the header bytes.
	HeaderSHA256   string
	HeaderVerified bool
	// Payload is tag 5092, the digest of the compressed payload, with its
	// algorithm ("sha256"); PayloadVerified is set by Inspect and Extract.
	Payload         string
	PayloadAlgo     string
	PayloadVerified bool
}

// FileInfo is one file the header lists.
type FileInfo struct {
	Name         string // as installed: absolute, or bare in source packages
	Mode         fs.FileMode
	Size         int64
	Owner, Group string
	MTime        time.Time
	Digest       string // hex, FILEDIGESTALGO (SHA256 for modern packages)
	LinkTarget   string
	Flags        FileFlag
}

func newInfo(h *rawHeaders) (*Info, error) {
	p := h.pkg
	hdr := &p.Header
	info := &Info{
		Name: p.Name(), Version: p.Version(), Release: p.Release(), Epoch: p.Epoch(),
		Arch: p.Architecture(), OS: p.OperatingSystem(),
		Source:    hdr.GetTag(tagSourceRPM) == nil,
		SourceRPM: p.SourceRPM(),
		Summary:   p.Summary(), Description: p.Description(),
		License: p.License(), Vendor: p.Vendor(), URL: p.URL(), Packager: p.Packager(),
		Distribution: p.Distribution(), BuildHost: p.BuildHost(),
		PayloadFormat: p.PayloadFormat(), PayloadCompressor: p.PayloadCompression(),
		Scripts: Scriptlets{
			PreTrans: hdr.GetTag(tagPreTrans).String(), Pre: p.PreInstallScript(),
			Post: p.PostInstallScript(), PreUn: p.PreUninstallScript(),
			PostUn: p.PostUninstallScript(), PostTrans: hdr.GetTag(tagPostTrans).String(),
		},
		Signed: p.Signature.GetTag(sigTagRSA) != nil || p.Signature.GetTag(sigTagPGP) != nil,
	}
	for _, r := range []struct {
		kind string
		get  func() []rpm.Dependency
		dst  *[]string
	}{
		{"requires", p.Requires, &info.Requires}, {"provides", p.Provides, &info.Provides},
		{"conflicts", p.Conflicts, &info.Conflicts}, {"obsoletes", p.Obsoletes, &info.Obsoletes},
	} {
		rel, err := relations(r.kind, r.get)
		if err != nil {
			return nil, err
		}
		*r.dst = rel
	}
	if g := p.Groups(); len(g) > 0 {
		info.Group = g[0]
	}
	if bt := hdr.GetTag(1006); bt != nil {
		info.BuildTime = time.Unix(bt.Int64(), 0).UTC()
	}
	files, err := fileInfos(p)
	if err != nil {
		return nil, err
	}
	info.Files = files
	return info, nil
}

// relations renders dependencies as "name OP version", leaving out rpmlib()
// and other rpm-internal ones only if the caller filters them.
// cavaliergopher indexes the parallel name/flags/version tags without
// checking their lengths, so a panic there means a malformed header.
func relations(kind string, get func() []rpm.Dependency) (out []string, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, fmt.Errorf("%w: %s tags are inconsistent: %v", ErrMalformed, kind, v)
		}
	}()
	for _, d := range get() {
		s := d.Name()
		if op := senseOp(d.Flags()); op != "" {
			v := d.Version()
			if d.Epoch() > 0 {
				v = fmt.Sprintf("%d:%s", d.Epoch(), v)
			}
			if d.Release() != "" {
				v += "-" + d.Release()
			}
			s += " " + op + " " + v
		}
		out = append(out, s)
	}
	return out, nil
}

func senseOp(flags int) string {
	switch flags & (rpm.DepFlagLesser | rpm.DepFlagGreater | rpm.DepFlagEqual) {
	case rpm.DepFlagLesser:
		return "<"
	case rpm.DepFlagLesserOrEqual:
		return "<="
	case rpm.DepFlagEqual:
		return "="
	case rpm.DepFlagGreaterOrEqual:
		return ">="
	case rpm.DepFlagGreater:
		return ">"
	}
	return ""
}

// fileInfos lists the header's files; cavaliergopher's Files() indexes
// parallel tags without checking their lengths, so a panic there means a
// malformed header.
func fileInfos(p *rpm.Package) (out []FileInfo, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, fmt.Errorf("%w: file list tags are inconsistent: %v", ErrMalformed, v)
		}
	}()
	for _, f := range p.Files() {
		out = append(out, FileInfo{
			Name: f.Name(), Mode: f.Mode(), Size: f.Size(), Owner: f.Owner(), Group: f.Group(),
			MTime: f.ModTime().UTC(), Digest: f.Digest(), LinkTarget: f.Linkname(), Flags: FileFlag(f.Flags()),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// File returns the listed file with the given name (absolute or bare).
func (i *Info) File(name string) (FileInfo, bool) {
	for _, f := range i.Files {
		if f.Name == name || strings.TrimPrefix(f.Name, "/") == strings.TrimPrefix(name, "/") {
			return f, true
		}
	}
	return FileInfo{}, false
}
