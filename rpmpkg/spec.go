// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/google/rpmpack"
)

// Spec describes a generic RPM: what Write turns into bytes. Zero values are
// usable defaults except Name, Version and Release.
type Spec struct {
	Name, Version, Release string
	// Epoch, when not nil, is written as the EPOCH tag (no tag otherwise).
	Epoch *uint32
	// Arch is the package architecture ("x86_64", "noarch"; "" = "noarch").
	// "src" makes a source package (see Source) whose ARCH tag is
	// "noarch"; a source package with Arch "x86_64" has ARCH x86_64, as
	// rpmbuild writes.
	Arch string
	// Source makes a source RPM: lead type 1, SOURCEPACKAGE=1, no SOURCERPM
	// tag (rpm treats a header without SOURCERPM as a source header), and
	// file names without a directory (e.g. "linux.spec"). Arch "src" implies it.
	Source bool

	Summary, Description                  string
	License, Vendor, Group, URL, Packager string
	Distribution, BuildHost               string

	// BuildTime is the BUILDTIME tag and the default file mtime. Pass the
	// SOURCE_DATE_EPOCH time (see ParseSourceDateEpoch) for reproducible
	// output. Zero omits BUILDTIME and gives files mtime 0.
	BuildTime time.Time
	// Compressor: "gzip" (default), "xz", "lzma" or "zstd", optionally with
	// a level after a colon ("gzip:9", "zstd:19"; xz and lzma take none).
	Compressor string

	// Relations, each "name" or "name OP version" (OP one of < <= = >= >).
	Requires, Provides, Conflicts, Obsoletes []string

	Files   []File
	Scripts Scriptlets
	// Changelog is the %changelog, newest entry first.
	Changelog []ChangelogEntry
	// Signer, when not nil, signs the header and header+payload (OpenPGP
	// detached signatures, tags RSA 268 and PGP 1002).
	Signer Signer
}

// Signer returns a binary OpenPGP detached signature of data.
type Signer func(data []byte) ([]byte, error)

// Scriptlets are /bin/sh scripts run by rpm; "" = none.
type Scriptlets struct {
	PreTrans  string `json:"pre_trans"`
	Pre       string `json:"pre"`
	Post      string `json:"post"`
	PreUn     string `json:"pre_un"`
	PostUn    string `json:"post_un"`
	PostTrans string `json:"post_trans"`
}

// FileFlag marks a file's role (rpm's %config, %doc, %ghost, ...).
type FileFlag uint32

// File flags as stored in FILEFLAGS.
const (
	FlagConfig    FileFlag = 1 << 0
	FlagDoc       FileFlag = 1 << 1
	FlagMissingOK FileFlag = 1 << 3
	FlagNoReplace FileFlag = 1 << 4
	FlagGhost     FileFlag = 1 << 6
	FlagLicense   FileFlag = 1 << 7
	FlagReadme    FileFlag = 1 << 8
	// FlagSpecFile marks the spec file of a source package; Write sets it
	// on a source package's "*.spec" file.
	FlagSpecFile FileFlag = 1 << 5
)

// File is one payload entry.
type File struct {
	// Name is the absolute installed path ("/var/opt/kpatch/modules/x.ko"),
	// or a bare file name in a source package ("linux.spec").
	Name string
	// Mode holds the permission bits and the type: 0 type bits = regular
	// file, fs.ModeDir = directory, fs.ModeSymlink = symlink to LinkTarget.
	Mode       fs.FileMode
	Body       []byte
	LinkTarget string
	// Owner and Group default to "root".
	Owner, Group string
	// MTime defaults to Spec.BuildTime.
	MTime time.Time
	Flags FileFlag
}

// FileName is the conventional file name of the package:
// NAME-VERSION-RELEASE.ARCH.rpm (".src.rpm" for source packages).
func (s *Spec) FileName() string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", s.Name, s.Version, s.Release, s.arch())
}

func (s *Spec) isSource() bool { return s.Source || s.Arch == "src" }

// arch is the architecture in the file name.
func (s *Spec) arch() string {
	if s.isSource() {
		return "src"
	}
	return s.headerArch()
}

// headerArch is the ARCH tag. rpmbuild writes the build architecture (or
// noarch) into source packages too; source-ness is SOURCERPM's absence.
func (s *Spec) headerArch() string {
	if s.Arch == "" || s.Arch == "src" {
		return "noarch"
	}
	return s.Arch
}

// Write encodes the package described by s to w. The same Spec (and a
// deterministic Signer) always gives the same bytes.
func Write(w io.Writer, s Spec) error {
	if err := s.validate(); err != nil {
		return err
	}
	r, err := rpmpack.NewRPM(s.metadata())
	if err != nil {
		return fmt.Errorf("%w: package %s: %v", ErrInvalidSpec, s.Name, err)
	}
	for _, f := range s.Files {
		r.AddFile(s.rpmFile(f))
	}
	addScriptlets(r, s.Scripts)
	addChangelog(r, s.Changelog)
	if s.Distribution != "" {
		r.AddCustomTag(tagDistribution, rpmpack.EntryString(s.Distribution))
	}
	if s.isSource() {
		r.AddCustomTag(tagSourcePackage, rpmpack.EntryInt32([]int32{1}))
		// The signature is recomputed after the header rewrite.
		var buf bytes.Buffer
		if err := r.Write(&buf); err != nil {
			return fmt.Errorf("write source package %s: %w", s.Name, err)
		}
		return writeSourcePackage(w, buf.Bytes(), s.Signer)
	}
	if s.Signer != nil {
		r.SetPGPSigner(s.Signer)
	}
	// rpmpack writes in several pieces; buffer so a failure leaves w untouched
	// by a partial package where possible.
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		return fmt.Errorf("write package %s: %w", s.Name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Spec) metadata() rpmpack.RPMMetaData {
	md := rpmpack.RPMMetaData{
		Name: s.Name, Version: s.Version, Release: s.Release,
		Summary: s.Summary, Description: s.Description,
		Arch: s.headerArch(), OS: "linux",
		Vendor: s.Vendor, URL: s.URL, Packager: s.Packager, Group: s.Group,
		Licence: s.License, BuildHost: s.BuildHost, Compressor: s.Compressor,
		Epoch: rpmpack.NoEpoch, BuildTime: s.BuildTime,
	}
	if s.Epoch != nil {
		md.Epoch = *s.Epoch
	}
	// validate() has parsed every relation already.
	md.Requires = mustRelations(s.Requires)
	md.Provides = mustRelations(s.Provides)
	md.Conflicts = mustRelations(s.Conflicts)
	md.Obsoletes = mustRelations(s.Obsoletes)
	return md
}

func (s *Spec) rpmFile(f File) rpmpack.RPMFile {
	owner, group := f.Owner, f.Group
	if owner == "" {
		owner = "root"
	}
	if group == "" {
		group = "root"
	}
	mtime := f.MTime
	if mtime.IsZero() {
		mtime = s.BuildTime
	}
	var mt uint32
	if !mtime.IsZero() {
		mt = uint32(mtime.Unix())
	}
	mode := uint(f.Mode.Perm()) | suidBits(f.Mode)
	flags := f.Flags
	if s.isSource() && strings.HasSuffix(f.Name, ".spec") {
		flags |= FlagSpecFile
	}
	body := f.Body
	switch {
	case f.Mode.IsDir():
		mode |= 0o040000
		body = nil
	case f.Mode&fs.ModeSymlink != 0:
		mode |= 0o120000
		body = []byte(f.LinkTarget)
	default:
		mode |= 0o100000
	}
	return rpmpack.RPMFile{
		Name: f.Name, Body: body, Mode: mode, Owner: owner, Group: group,
		MTime: mt, Type: rpmpack.FileType(flags),
	}
}

func suidBits(m fs.FileMode) uint {
	var b uint
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func addScriptlets(r *rpmpack.RPM, sc Scriptlets) {
	for _, s := range []struct {
		body string
		add  func(string)
	}{
		{sc.PreTrans, r.AddPretrans}, {sc.Pre, r.AddPrein}, {sc.Post, r.AddPostin},
		{sc.PreUn, r.AddPreun}, {sc.PostUn, r.AddPostun}, {sc.PostTrans, r.AddPosttrans},
	} {
		if s.body != "" {
			s.add(s.body)
		}
	}
}

func (s *Spec) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: package %q: %s", ErrInvalidSpec, s.Name, fmt.Sprintf(format, args...))
	}
	for field, v := range map[string]string{"name": s.Name, "version": s.Version, "release": s.Release} {
		if v == "" {
			return bad("empty %s", field)
		}
		if strings.ContainsAny(v, " \t\n/") || (field != "name" && strings.Contains(v, "-")) {
			return bad("%s %q has a character rpm does not allow there", field, v)
		}
	}
	if strings.ContainsAny(s.Arch, " \t\n/") {
		return bad("arch %q", s.Arch)
	}
	for _, rels := range [][]string{s.Requires, s.Provides, s.Conflicts, s.Obsoletes} {
		for _, rel := range rels {
			if _, err := parseRelation(rel); err != nil {
				return bad("%v", err)
			}
		}
	}
	if err := validateChangelog(s.Changelog); err != nil {
		return bad("%v", err)
	}
	seen := make(map[string]bool, len(s.Files))
	for _, f := range s.Files {
		if err := s.validateFile(f); err != nil {
			return bad("%v", err)
		}
		if seen[f.Name] {
			return bad("file %q listed twice", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

func (s *Spec) validateFile(f File) error {
	name := f.Name
	if s.isSource() {
		if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			return fmt.Errorf("source package file %q must be a bare file name", name)
		}
	} else if !path.IsAbs(name) || path.Clean(name) != name || name == "/" {
		return fmt.Errorf("file %q must be an absolute, clean path", name)
	}
	if strings.ContainsAny(name, "\x00\n") {
		return fmt.Errorf("file %q has a NUL or newline", name)
	}
	if f.Mode&fs.ModeSymlink != 0 && f.LinkTarget == "" {
		return fmt.Errorf("symlink %q has no target", name)
	}
	if f.Mode&^(fs.ModePerm|fs.ModeDir|fs.ModeSymlink|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		return fmt.Errorf("file %q has unsupported mode %v", name, f.Mode)
	}
	if int64(len(f.Body)) > maxRPMFileSize {
		return fmt.Errorf("file %q is larger than rpmpack's 4 GiB limit", name)
	}
	return nil
}

const maxRPMFileSize = 1<<32 - 1
