// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Info is what Read and Inspect report about a package.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Release string `json:"release"`
	Epoch   int    `json:"epoch"` // 0 when absent
	Arch    string `json:"arch"`
	OS      string `json:"os"`
	// Source is true for source packages (no SOURCERPM tag, as rpm decides).
	Source    bool   `json:"source"`
	SourceRPM string `json:"source_rpm"`

	Summary      string    `json:"summary"`
	Description  string    `json:"description"`
	License      string    `json:"license"`
	Vendor       string    `json:"vendor"`
	Group        string    `json:"group"`
	URL          string    `json:"url"`
	Packager     string    `json:"packager"`
	Distribution string    `json:"distribution"`
	BuildHost    string    `json:"build_host"`
	BuildTime    time.Time `json:"build_time"`

	// PayloadFormat is "cpio"; PayloadCompressor "gzip", "xz", "lzma",
	// "zstd" or "" (uncompressed).
	PayloadFormat     string `json:"payload_format"`
	PayloadCompressor string `json:"payload_compressor"`

	Requires  []string   `json:"requires"`
	Provides  []string   `json:"provides"`
	Conflicts []string   `json:"conflicts"`
	Obsoletes []string   `json:"obsoletes"`
	Files     []FileInfo `json:"files"`
	Scripts   Scriptlets `json:"scripts"`
	// Signed: the package carries OpenPGP signatures (not verified here;
	// rpmkeys -K with the vendor key does that).
	Signed  bool    `json:"signed"`
	Digests Digests `json:"digests"`
}

// Digests are the package digests and whether they were checked. A digest
// that does not match is an error (ErrDigestMismatch), never a false here.
type Digests struct {
	// HeaderSHA256 is signature tag 273 (hex); HeaderVerified is set when
	// it (or, without it, the SHA1 tag 269) matched the header bytes.
	HeaderSHA256   string `json:"header_sha256"`
	HeaderVerified bool   `json:"header_verified"`
	// Payload is tag 5092, the digest of the compressed payload, with its
	// algorithm ("sha256"); PayloadVerified is set by Inspect and Extract.
	Payload         string `json:"payload"`
	PayloadAlgo     string `json:"payload_algo"`
	PayloadVerified bool   `json:"payload_verified"`
}

// FileInfo is one file the header lists.
type FileInfo struct {
	Name       string      `json:"name"` // as installed: absolute, or bare in source packages
	Mode       fs.FileMode `json:"mode"`
	Size       int64       `json:"size"`
	Owner      string      `json:"owner"`
	Group      string      `json:"group"`
	MTime      time.Time   `json:"mtime"`
	Digest     string      `json:"digest"` // hex, FILEDIGESTALGO (SHA256 for modern packages)
	LinkTarget string      `json:"link_target"`
	Flags      FileFlag    `json:"flags"`
}

// Header tags Info reads (rpm's include/rpm/rpmtag.h).
const (
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagOS              = 1021
	tagArch            = 1022
	tagPreIn           = 1023
	tagPostIn          = 1024
	tagPreUn           = 1025
	tagPostUn          = 1026
	tagFileSizes       = 1028
	tagFileModes       = 1030
	tagFileMTimes      = 1034
	tagFileDigests     = 1035
	tagFileLinkTos     = 1036
	tagFileFlags       = 1037
	tagFileUserName    = 1039
	tagFileGroupName   = 1040
	tagProvideName     = 1047
	tagRequireFlags    = 1048
	tagRequireName     = 1049
	tagRequireVersion  = 1050
	tagConflictFlags   = 1053
	tagConflictName    = 1054
	tagConflictVersion = 1055
	tagObsoleteName    = 1090
	tagProvideFlags    = 1112
	tagProvideVersion  = 1113
	tagObsoleteFlags   = 1114
	tagObsoleteVersion = 1115
	tagDirIndexes      = 1116
	tagBaseNames       = 1117
	tagDirNames        = 1118
	tagPayloadFormat   = 1124
	tagFileDigestAlgo  = 5011
	tagLongFileSizes   = 5008
)

// Dependency sense bits (rpm's RPMSENSE_*).
const (
	senseLess    = 1 << 1
	senseGreater = 1 << 2
	senseEqual   = 1 << 3
)

func newInfo(h *rawHeaders) (*Info, error) {
	hdr := h.tags
	epoch, _ := hdr.int(tagEpoch)
	info := &Info{
		Name: hdr.str(tagName), Version: hdr.str(tagVersion), Release: hdr.str(tagRelease), Epoch: int(epoch),
		Arch: hdr.str(tagArch), OS: hdr.str(tagOS),
		Source:    !hdr.has(tagSourceRPM),
		SourceRPM: hdr.str(tagSourceRPM),
		// I18N strings hold one value per language; rpm shows the first
		// (the C locale) unless told otherwise.
		Summary: hdr.str(tagSummary), Description: hdr.str(tagDescription),
		License: hdr.str(tagLicense), Vendor: hdr.str(tagVendor), Group: hdr.str(tagGroup),
		URL: hdr.str(tagURL), Packager: hdr.str(tagPackager),
		Distribution: hdr.str(tagDistribution), BuildHost: hdr.str(tagBuildHost),
		PayloadFormat: hdr.str(tagPayloadFormat), PayloadCompressor: hdr.str(tagPayloadCompressor),
		Scripts: Scriptlets{
			PreTrans: hdr.str(tagPreTrans), Pre: hdr.str(tagPreIn),
			Post: hdr.str(tagPostIn), PreUn: hdr.str(tagPreUn),
			PostUn: hdr.str(tagPostUn), PostTrans: hdr.str(tagPostTrans),
		},
		Signed: h.sigTags.has(sigTagRSA) || h.sigTags.has(sigTagPGP) ||
			h.sigTags.has(sigTagDSA) || h.sigTags.has(sigTagGPG),
	}
	for _, r := range []struct {
		kind                   string
		names, flags, versions int
		dst                    *[]string
	}{
		{"requires", tagRequireName, tagRequireFlags, tagRequireVersion, &info.Requires},
		{"provides", tagProvideName, tagProvideFlags, tagProvideVersion, &info.Provides},
		{"conflicts", tagConflictName, tagConflictFlags, tagConflictVersion, &info.Conflicts},
		{"obsoletes", tagObsoleteName, tagObsoleteFlags, tagObsoleteVersion, &info.Obsoletes},
	} {
		rel, err := relations(r.kind, hdr.strs(r.names), hdr.ints(r.flags), hdr.strs(r.versions))
		if err != nil {
			return nil, err
		}
		*r.dst = rel
	}
	if bt, ok := hdr.int(tagBuildTime); ok {
		info.BuildTime = time.Unix(bt, 0).UTC()
	}
	files, err := fileInfos(hdr)
	if err != nil {
		return nil, err
	}
	info.Files = files
	return info, nil
}

// relations renders dependencies as "name OP version" (version as
// [E:]V[-R], epoch left out when 0), leaving out rpmlib() and other
// rpm-internal ones only if the caller filters them. The three tags are
// parallel arrays; a header whose arrays differ in length is malformed.
func relations(kind string, names []string, flags []int64, versions []string) ([]string, error) {
	if len(flags) != len(names) || len(versions) != len(names) {
		return nil, fmt.Errorf("%w: %s tags are inconsistent: %d names, %d flags, %d versions",
			ErrMalformed, kind, len(names), len(flags), len(versions))
	}
	var out []string
	for i, name := range names {
		s := name
		if op := senseOp(flags[i]); op != "" {
			s += " " + op + " " + renderEVR(versions[i])
		}
		out = append(out, s)
	}
	return out, nil
}

// renderEVR normalizes a dependency's [E:]V[-R]: an epoch that is 0 or not
// a number is left out.
func renderEVR(evr string) string {
	epoch := 0
	if i := strings.IndexByte(evr, ':'); i >= 0 {
		if n, err := strconv.Atoi(evr[:i]); err == nil && n > 0 && !strings.ContainsAny(evr[:i], "+-") {
			epoch = n
		}
		evr = evr[i+1:]
	}
	if epoch > 0 {
		return fmt.Sprintf("%d:%s", epoch, evr)
	}
	return evr
}

func senseOp(flags int64) string {
	switch flags & (senseLess | senseGreater | senseEqual) {
	case senseLess:
		return "<"
	case senseLess | senseEqual:
		return "<="
	case senseEqual:
		return "="
	case senseGreater | senseEqual:
		return ">="
	case senseGreater:
		return ">"
	}
	return ""
}

// fileInfos lists the header's files. The file tags are parallel arrays
// indexed by BASENAMES; a header whose arrays disagree is malformed.
func fileInfos(hdr *header) ([]FileInfo, error) {
	names := hdr.strs(tagBaseNames)
	if len(names) == 0 {
		return nil, nil
	}
	dirs, ixs := hdr.strs(tagDirNames), hdr.ints(tagDirIndexes)
	sizes := hdr.ints(tagLongFileSizes)
	if sizes == nil {
		sizes = hdr.ints(tagFileSizes)
	}
	modes, times, flags := hdr.ints(tagFileModes), hdr.ints(tagFileMTimes), hdr.ints(tagFileFlags)
	owners, groups := hdr.strs(tagFileUserName), hdr.strs(tagFileGroupName)
	digests, links := hdr.strs(tagFileDigests), hdr.strs(tagFileLinkTos)
	for _, l := range []struct {
		tag, n int
	}{
		{tagDirIndexes, len(ixs)}, {tagFileSizes, len(sizes)}, {tagFileModes, len(modes)},
		{tagFileMTimes, len(times)}, {tagFileFlags, len(flags)}, {tagFileUserName, len(owners)},
		{tagFileGroupName, len(groups)}, {tagFileDigests, len(digests)}, {tagFileLinkTos, len(links)},
	} {
		if l.n != len(names) {
			return nil, fmt.Errorf("%w: file list tags are inconsistent: %d names, %d values in tag %d",
				ErrMalformed, len(names), l.n, l.tag)
		}
	}
	out := make([]FileInfo, 0, len(names))
	for i, base := range names {
		if ixs[i] < 0 || ixs[i] >= int64(len(dirs)) {
			return nil, fmt.Errorf("%w: file %q: directory index %d of %d", ErrMalformed, base, ixs[i], len(dirs))
		}
		out = append(out, FileInfo{
			Name: dirs[ixs[i]] + base, Mode: fileMode(modes[i]), Size: sizes[i],
			Owner: owners[i], Group: groups[i], MTime: time.Unix(times[i], 0).UTC(),
			Digest: digests[i], LinkTarget: links[i], Flags: FileFlag(flags[i]),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// fileMode converts a stat mode (type in S_IFMT, then setuid, setgid,
// sticky and permission bits) to an fs.FileMode.
func fileMode(mode int64) fs.FileMode {
	fm := fs.FileMode(mode & 0o777)
	switch mode & 0o170000 {
	case 0o060000:
		fm |= fs.ModeDevice
	case 0o020000:
		fm |= fs.ModeDevice | fs.ModeCharDevice
	case 0o040000:
		fm |= fs.ModeDir
	case 0o010000:
		fm |= fs.ModeNamedPipe
	case 0o120000:
		fm |= fs.ModeSymlink
	case 0o140000:
		fm |= fs.ModeSocket
	}
	if mode&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if mode&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if mode&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
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
