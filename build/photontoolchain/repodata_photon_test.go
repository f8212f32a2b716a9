// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// fxPkg is a package of a hand-written primary list, as createrepo_c
// writes Photon's: checksum type and value as given (sumType "" writes no
// type attribute, "none" no checksum element).
type fxPkg struct {
	nvr                string // name-version-release
	requires, provides []string
	files              []string
	sumType, sum       string
	size               int64
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// entryXML is one rpm:entry: a relation's fields, or a rich dependency
// whole in the name. "pre:" asks for pre="1" (Requires(post) and such).
func entryXML(s string) string {
	pre := ""
	if r, ok := strings.CutPrefix(s, "pre:"); ok {
		s, pre = r, ` pre="1"`
	}
	if strings.HasPrefix(s, "(") {
		return fmt.Sprintf(`<rpm:entry name="%s"%s/>`, esc(s), pre)
	}
	r, err := ParseRelation(s)
	if err != nil {
		panic(err)
	}
	if r.Flags == "" {
		return fmt.Sprintf(`<rpm:entry name="%s"%s/>`, esc(r.Name), pre)
	}
	epoch := r.Epoch
	if epoch == "" {
		epoch = "0"
	}
	return fmt.Sprintf(`<rpm:entry name="%s" flags="%s" epoch="%s" ver="%s" rel="%s"%s/>`, esc(r.Name), r.Flags, epoch, r.Ver, r.Rel, pre)
}

func nvrSplit(nvr string) (name, ver, rel string) {
	f := strings.Split(nvr, "-")
	return strings.Join(f[:len(f)-2], "-"), f[len(f)-2], f[len(f)-1]
}

// primaryXML writes pkgs as createrepo_c lays a primary list out.
func primaryXML(pkgs []fxPkg) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">`+"\n", len(pkgs))
	for _, p := range pkgs {
		name, ver, rel := nvrSplit(p.nvr)
		fmt.Fprintf(&b, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>x86_64</arch>\n  <version epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n", esc(name), ver, rel)
		switch p.sumType {
		case "none":
		case "":
			fmt.Fprintf(&b, "  <checksum pkgid=\"YES\">%s</checksum>\n", p.sum)
		default:
			fmt.Fprintf(&b, "  <checksum type=\"%s\" pkgid=\"YES\">%s</checksum>\n", p.sumType, p.sum)
		}
		fmt.Fprintf(&b, "  <summary>%s</summary>\n  <description>%s, as Photon builds it.</description>\n  <packager>VMware, Inc.</packager>\n", esc(name), esc(name))
		fmt.Fprintf(&b, "  <url>https://vmware.github.io/photon/</url>\n  <time file=\"1700000000\" build=\"1690000000\"/>\n")
		fmt.Fprintf(&b, "  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n", p.size, p.size*3, p.size*3)
		fmt.Fprintf(&b, "  <location href=\"x86_64/%s.x86_64.rpm\"/>\n  <format>\n    <rpm:license>GPLv3+</rpm:license>\n", p.nvr)
		fmt.Fprintf(&b, "    <rpm:vendor>VMware, Inc.</rpm:vendor>\n    <rpm:group>Development/Tools</rpm:group>\n    <rpm:buildhost>photon-builder</rpm:buildhost>\n")
		fmt.Fprintf(&b, "    <rpm:sourcerpm>%s.src.rpm</rpm:sourcerpm>\n    <rpm:header-range start=\"4504\" end=\"60000\"/>\n", p.nvr)
		b.WriteString("    <rpm:provides>\n      " + entryXML(name+" = "+ver+"-"+rel) + "\n")
		for _, pr := range p.provides {
			b.WriteString("      " + entryXML(pr) + "\n")
		}
		b.WriteString("    </rpm:provides>\n")
		if len(p.requires) > 0 {
			b.WriteString("    <rpm:requires>\n")
			for _, r := range p.requires {
				b.WriteString("      " + entryXML(r) + "\n")
			}
			b.WriteString("    </rpm:requires>\n")
		}
		for _, f := range p.files {
			fmt.Fprintf(&b, "    <file>%s</file>\n", esc(f))
		}
		b.WriteString("  </format>\n</package>\n")
	}
	b.WriteString("</metadata>\n")
	return b.Bytes()
}

func digest(algo string, data []byte) string {
	var h hash.Hash
	switch algo {
	case "sha512":
		h = sha512.New()
	case "sha", "sha1":
		h = sha1.New()
	default:
		h = sha256.New()
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// writeRepo writes a repository's repodata: primary (compressed with
// gzip, as Photon's build.py asks createrepo for) and a repomd.xml whose
// checksums are of type mdSum.
func writeRepo(t *testing.T, dir string, primary []byte, mdSum string) {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(primary)
	require.NoError(t, zw.Close())
	sum := digest(mdSum, gz.Bytes())
	href := "repodata/" + sum + "-primary.xml.gz"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "repodata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, href), gz.Bytes(), 0o644))
	repomd := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="primary">
    <checksum type="%[1]s">%[2]s</checksum>
    <open-checksum type="%[1]s">%[3]s</open-checksum>
    <location href="%[4]s"/>
    <timestamp>1700000000</timestamp>
    <size>%[5]d</size>
    <open-size>%[6]d</open-size>
  </data>
  <data type="filelists">
    <checksum type="%[1]s">%[2]s</checksum>
    <location href="repodata/0-filelists.xml.gz"/>
  </data>
</repomd>
`, mdSum, sum, digest(mdSum, primary), href, gz.Len(), len(primary))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(repomd), 0o644))
}

// photonFixture is a Photon 5.0-like release repository's toolchain part:
// gcc with its libraries pinned to its exact build, binutils on its libs,
// glibc-devel on glibc, bash's and systemd's rich requirements, pre="1"
// requirements, rpmlib features, soname provides and a libgcc <-> gcc
// cycle through provides. Checksums are made up of type sumType.
func photonFixture(sumType string) []fxPkg {
	pkgs := []fxPkg{
		{nvr: "gcc-12.2.0-2.ph5", requires: []string{"libstdc++-devel = 12.2.0-2.ph5", "libgcc-devel = 12.2.0-2.ph5", "libgomp-devel = 12.2.0-2.ph5",
			"libgcc-atomic = 12.2.0-2.ph5", "mpc", "gmp", "/bin/sh", "rpmlib(CompressedFileNames) <= 3.0.4-1", "rpmlib(PayloadIsZstd) <= 5.4.18-1"},
			provides: []string{"gcc-10"}, files: []string{"/usr/bin/gcc", "/usr/bin/cc"}},
		{nvr: "libgcc-12.2.0-2.ph5", requires: []string{"libc.so.6()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)", "pre:/sbin/ldconfig"},
			provides: []string{"libgcc_s.so.1()(64bit)", "libgcc_s.so.1(GCC_3.0)(64bit)"}},
		{nvr: "libgcc-atomic-12.2.0-2.ph5", requires: []string{"libgcc = 12.2.0-2.ph5"}},
		{nvr: "libgcc-devel-12.2.0-2.ph5", requires: []string{"libgcc = 12.2.0-2.ph5", "(gcc = 12.2.0-2.ph5 if gcc)"}},
		{nvr: "libstdc++-12.2.0-2.ph5", requires: []string{"libgcc = 12.2.0-2.ph5", "libgcc_s.so.1()(64bit)"}},
		{nvr: "libstdc++-devel-12.2.0-2.ph5", requires: []string{"libstdc++ = 12.2.0-2.ph5"}},
		{nvr: "libgomp-12.2.0-2.ph5"},
		{nvr: "libgomp-devel-12.2.0-2.ph5", requires: []string{"libgomp = 12.2.0-2.ph5"}},
		{nvr: "mpc-1.2.1-2.ph5", requires: []string{"gmp", "mpfr"}},
		{nvr: "mpfr-4.1.0-2.ph5", requires: []string{"gmp"}},
		{nvr: "gmp-6.2.1-3.ph5"},
		{nvr: "binutils-2.39-7.ph5", requires: []string{"binutils-libs = 2.39-7.ph5", "/bin/sh"}, files: []string{"/usr/bin/ld", "/usr/bin/as"}},
		{nvr: "binutils-libs-2.39-7.ph5"},
		{nvr: "glibc-2.36-9.ph5", requires: []string{"filesystem", "glibc-libs = 2.36-9.ph5"}, provides: []string{"rtld(GNU_HASH)", "/sbin/ldconfig"}, files: []string{"/sbin/ldconfig"}},
		{nvr: "glibc-libs-2.36-9.ph5", provides: []string{"libc.so.6()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)"}},
		{nvr: "glibc-devel-2.36-9.ph5", requires: []string{"glibc = 2.36-9.ph5"}},
		{nvr: "filesystem-1.1-4.ph5"},
		{nvr: "bash-5.2.15-1.ph5", requires: []string{"pre:(coreutils or coreutils-selinux or toybox)", "ncurses-libs"}, files: []string{"/bin/sh", "/bin/bash"}},
		{nvr: "ncurses-libs-6.4-2.ph5"},
		{nvr: "coreutils-9.1-7.ph5"},
		{nvr: "coreutils-selinux-9.1-7.ph5", requires: []string{"libselinux"}},
		{nvr: "toybox-0.8.8-2.ph5"},
		{nvr: "make-4.3-2.ph5"},
		{nvr: "systemd-253.12-1.ph5", requires: []string{"pre:(coreutils or coreutils-selinux or toybox)"}},
	}
	for i := range pkgs {
		pkgs[i].sumType, pkgs[i].size = sumType, int64(1000+i)
		pkgs[i].sum = digest(sumType, []byte(pkgs[i].nvr))
	}
	return pkgs
}

func serveDir(t *testing.T, dir string) *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv
}

// What Photon's repositories hold (createrepo_c's metadata, sha256 by
// default, sha512 when asked for) reads, and resolves to a list whose
// entries carry the repository's own digest.
func TestReadPhotonRepository(t *testing.T) {
	want := []string{"gcc = 12.2.0", "binutils", "glibc-devel", "make", "bash"}
	closure := []string{"bash", "binutils", "binutils-libs", "coreutils", "filesystem", "gcc", "glibc", "glibc-devel", "glibc-libs",
		"gmp", "libgcc", "libgcc-atomic", "libgcc-devel", "libgomp", "libgomp-devel", "libstdc++", "libstdc++-devel", "make",
		"mpc", "mpfr", "ncurses-libs"}
	for _, algo := range []string{"sha256", "sha512"} {
		t.Run(algo, func(t *testing.T) {
			dir := t.TempDir()
			writeRepo(t, dir, primaryXML(photonFixture(algo)), algo)
			srv := serveDir(t, dir)
			pkgs, err := readRepository(t.Context(), srv.Client(), srv.URL+"/")
			require.NoError(t, err)
			require.Len(t, pkgs, 24)
			bash := pkgs[17]
			assert.Equal(t, "bash", bash.Name)
			assert.Equal(t, []Relation{{Name: "(coreutils or coreutils-selinux or toybox)"}, {Name: "ncurses-libs"}}, bash.Requires,
				"a rich dependency is the entry's name, whole")
			l, err := NewIndex(pkgs).Resolve(want)
			require.NoError(t, err)
			var names []string
			for _, e := range l {
				names = append(names, e.Name)
				assert.Equal(t, srv.URL+"/x86_64/"+e.Name+"-"+e.Version+".x86_64.rpm", e.URL)
				if algo == "sha512" {
					assert.Equal(t, digest("sha512", []byte(e.Name+"-"+e.Version)), e.SHA512)
					assert.Empty(t, e.SHA256)
				} else {
					assert.Equal(t, digest("sha256", []byte(e.Name+"-"+e.Version)), e.SHA256)
					assert.Empty(t, e.SHA512)
				}
			}
			assert.Equal(t, closure, names)
		})
	}
}

// Metadata that is malformed or names packages by a weak digest is
// refused, naming the file and the package.
func TestReadPhotonRepositoryRefuses(t *testing.T) {
	withSum := func(typ string) []fxPkg {
		pkgs := photonFixture("sha256")
		pkgs[11].sumType, pkgs[11].sum = typ, digest(typ, []byte(pkgs[11].nvr)) // binutils
		return pkgs
	}
	for _, tc := range []struct {
		name    string
		primary []byte
		mdSum   string
		like    []string
	}{
		{"SHA-1 package", primaryXML(withSum("sha")), "sha256", []string{`package "binutils" (x86_64/binutils-2.39-7.ph5.x86_64.rpm)`, `checksum type "sha" is not accepted`}},
		{"SHA-1 package, spelled sha1", primaryXML(withSum("sha1")), "sha256", []string{`package "binutils"`, `checksum type "sha1" is not accepted`}},
		{"md5 package", primaryXML(withSum("md5")), "sha256", []string{`package "binutils"`, `checksum type "md5" is not accepted`}},
		{"no checksum type", primaryXML(withSum("")), "sha256", []string{`package "binutils"`, `checksum type "" is not accepted`}},
		{"unknown checksum type", primaryXML(withSum("sha3-256")), "sha256", []string{`package "binutils"`, `checksum type "sha3-256" is not accepted`}},
		{"no checksum", primaryXML(withSum("none")), "sha256", []string{`package "binutils"`, "has no checksum"}},
		{"SHA-1 repomd.xml", primaryXML(photonFixture("sha256")), "sha", []string{"repomd.xml: repodata/", `checksum type "sha" is not accepted`}},
		{"bad XML", []byte(`<?xml version="1.0"?><metadata><package><name>gcc</name></metadata>`), "sha256", []string{"primary-list", "primary list"}},
		{"not a primary list", []byte(`<?xml version="1.0"?><repomd/>`), "sha256", []string{"has <repomd> where <metadata> belongs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRepo(t, dir, tc.primary, tc.mdSum)
			srv := serveDir(t, dir)
			_, err := readRepository(t.Context(), srv.Client(), srv.URL)
			require.ErrorIs(t, err, kernelsrc.ErrBadRepodata)
			assert.ErrorContains(t, err, srv.URL+"/repodata/", "the repository file is named")
			for _, s := range tc.like {
				if s == "primary-list" {
					assert.ErrorContains(t, err, "-primary.xml.gz")
					continue
				}
				assert.ErrorContains(t, err, s)
			}
		})
	}
}

// Hostile requirements in a primary list: a rich dependency nested 1000
// deep, or malformed, fails the resolution when the package is chosen,
// naming it, with no deep recursion; a package that is not chosen does
// not matter.
func TestResolveHostileRepository(t *testing.T) {
	pkgs := photonFixture("sha256")
	deep := strings.Repeat("(make or ", 1000) + "gmp" + strings.Repeat(")", 1000)
	pkgs = append(pkgs,
		fxPkg{nvr: "deep-1-1.ph5", requires: []string{deep}, sumType: "sha256", sum: digest("sha256", []byte("deep")), size: 1},
		fxPkg{nvr: "mixed-1-1.ph5", requires: []string{"(make and gmp or toybox)"}, sumType: "sha256", sum: digest("sha256", []byte("mixed")), size: 1})
	dir := t.TempDir()
	writeRepo(t, dir, primaryXML(pkgs), "sha256")
	srv := serveDir(t, dir)
	read, err := readRepository(t.Context(), srv.Client(), srv.URL)
	require.NoError(t, err)
	x := NewIndex(read)
	_, err = x.Resolve([]string{"make"})
	require.NoError(t, err, "the hostile packages are not chosen")
	_, err = x.Resolve([]string{"deep"})
	require.ErrorIs(t, err, ErrBadDependency)
	assert.ErrorContains(t, err, "deep 1-1.ph5 requires")
	assert.ErrorContains(t, err, "nested deeper than 32 levels")
	_, err = x.Resolve([]string{"mixed"})
	require.ErrorIs(t, err, ErrBadDependency)
	assert.ErrorContains(t, err, `mixed 1-1.ph5 requires photontoolchain: malformed dependency: "(make and gmp or toybox)"`)
}

// A repository that lists its packages by SHA-512 only provisions a root
// end to end: the list names each package by its SHA-512, and the
// download is checked against it; a package that is not the listed one
// leaves no root.
func TestProvisionSHA512Repository(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "5.0", "photon_release_5.0_x86_64")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "x86_64"), 0o755))
	fx := []fxPkg{
		{nvr: "make-4.3-2.ph5", requires: []string{"(glibc or toybox)"}, files: []string{"/usr/bin/make"}},
		{nvr: "glibc-2.36-9.ph5", files: []string{"/usr/lib/libc.so.6"}},
		{nvr: "toybox-0.8.8-2.ph5"},
	}
	for i, p := range fx {
		name, ver, rel := nvrSplit(p.nvr)
		var files []rpmpkg.File
		for _, f := range p.files {
			files = append(files, rpmpkg.File{Name: f, Mode: 0o755, Body: []byte(p.nvr)})
		}
		var b bytes.Buffer
		require.NoError(t, rpmpkg.Write(&b, rpmpkg.Spec{Name: name, Version: ver, Release: rel, Arch: "x86_64", Summary: name,
			Description: name, License: "GPL", BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Files: files}))
		require.NoError(t, os.WriteFile(filepath.Join(repo, "x86_64", p.nvr+".x86_64.rpm"), b.Bytes(), 0o644))
		fx[i].sumType, fx[i].sum, fx[i].size = "sha512", digest("sha512", b.Bytes()), int64(b.Len())
	}
	writeRepo(t, repo, primaryXML(fx), "sha512")
	srv := serveDir(t, base)
	p := &Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL}, Repos: []string{"5.0/photon_release_5.0_x86_64"}, CacheDir: t.TempDir()}
	idx, err := p.Index(t.Context())
	require.NoError(t, err)
	list, err := idx.Resolve([]string{"make"})
	require.NoError(t, err)
	require.Len(t, list, 2)
	for i, e := range list {
		assert.Equal(t, []string{"glibc", "make"}[i], e.Name)
		assert.Len(t, e.SHA512, 128)
		assert.Empty(t, e.SHA256)
	}
	root, err := p.Provision(t.Context(), list)
	require.NoError(t, err)
	body, err := os.ReadFile(filepath.Join(root.Dir, "usr/bin/make"))
	require.NoError(t, err)
	assert.Equal(t, "make-4.3-2.ph5", string(body))
	assert.FileExists(t, filepath.Join(root.Dir, "usr/lib/libc.so.6"))
	written, err := os.ReadFile(filepath.Join(root.Dir, toolchain.ListFile))
	require.NoError(t, err)
	assert.Contains(t, string(written), " sha512:"+list[1].SHA512+" ")

	// The same name and size with other bytes: its SHA-512 differs.
	file := filepath.Join(repo, "x86_64", "glibc-2.36-9.ph5.x86_64.rpm")
	good, err := os.ReadFile(file)
	require.NoError(t, err)
	bad := append([]byte(nil), good...)
	bad[len(bad)-10] ^= 1
	require.NoError(t, os.WriteFile(file, bad, 0o644))
	p.CacheDir = t.TempDir()
	_, err = p.Provision(t.Context(), list)
	require.ErrorIs(t, err, toolchain.ErrChecksumMismatch)
	assert.ErrorContains(t, err, "has SHA-512 ")
	entries, _ := os.ReadDir(filepath.Join(p.CacheDir, "roots", "unsigned"))
	for _, e := range entries {
		assert.False(t, e.IsDir(), "no root, nor a half-built one: %s", e.Name())
	}
}
