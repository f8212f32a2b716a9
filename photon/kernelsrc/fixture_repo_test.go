// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// fixtureDir holds the synthetic repository's ingredients.
const fixtureDir = "../../testdata/photon-repo"

const (
	i40eVersion = "2.22.18"
	jentDir     = "jitterentropy-3.4.1-1"
)

// fixtureKernels are the kernels of the synthetic repository: every
// release and flavor, old and new rt formats.
func fixtureKernels() []string {
	return []string{
		"4.19.247-2.ph3", "4.19.325-1.ph3-aws", "4.19.247-rt108-10.ph3-rt",
		"5.10.118-3.ph4", "5.10.118-3.kat.ph4", "5.10.237-1.ph4-aws", "5.10.118-rt67-3.ph4-rt",
		"6.1.138-2.ph5", "6.1.138-1.ph5-rt", "6.1.138-1.ph5-esx",
	}
}

// repoOptions vary how the synthetic repository is built.
type repoOptions struct {
	comment     string              // vmlinux .comment; "" means "GCC: (GCC) 12.2.0"
	noRepodata  bool                // leave repodata/ out
	specEdit    func(string) string // rewrites every spec (fault injection)
	corruptSRPM bool                // publish a broken source RPM (with matching metadata)
	signer      rpmpkg.Signer       // signs every package when set
}

// buildRepo writes a Photon-layout repository for kernels under a new temp dir.
func buildRepo(t testing.TB, kernels []string, o repoOptions) string {
	t.Helper()
	root := t.TempDir()
	byRepo := map[string][]PackageEntry{}
	for _, s := range kernels {
		k := photon.MustParseKernel(s)
		srpm := buildSRPM(t, k, o)
		if o.corruptSRPM {
			srpm = append([]byte(nil), srpm[:len(srpm)/2]...)
		}
		debug := buildDebuginfo(t, k, o.comment, o.signer)
		for _, p := range []struct {
			kind PackageKind
			data []byte
		}{{SourcePackage, srpm}, {DebuginfoPackage, debug}} {
			repo := p.kind.RepoPath(k.Release())
			href := p.kind.PackagePath(k)
			writeFile(t, filepath.Join(root, repo, href), p.data)
			sum := sha256.Sum256(p.data)
			byRepo[repo] = append(byRepo[repo], PackageEntry{Name: k.Package(), Href: href, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(p.data)),
				Version: k.Version.String(), Release: k.RPMRelease(), Arch: map[PackageKind]string{SourcePackage: "src", DebuginfoPackage: "x86_64"}[p.kind]})
		}
	}
	if !o.noRepodata {
		for repo, pkgs := range byRepo {
			writeRepodata(t, filepath.Join(root, repo), pkgs)
		}
	}
	return root
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, data, 0o644))
}

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, rel))
	require.NoError(t, err)
	return data
}

func buildSRPM(t testing.TB, k photon.Kernel, o repoOptions) []byte {
	t.Helper()
	spec := string(readFixture(t, path.Join("specs", k.Release().String(), k.Package()+".spec")))
	if o.specEdit != nil {
		spec = o.specEdit(spec)
	}
	files := []rpmpkg.File{
		{Name: k.Package() + ".spec", Body: []byte(spec)},
		{Name: "linux-" + k.Version.String() + ".tar.xz", Body: kernelTarball(t, k.Version.String())},
		{Name: "i40e-" + i40eVersion + ".tar.gz", Body: dirTarball(t, "i40e", "i40e-"+i40eVersion, false)},
		{Name: jentDir + ".tar.gz", Body: dirTarball(t, "jitterentropy", jentDir, false)},
	}
	for _, dir := range []string{"configs", "patches", "sources"} {
		entries, err := os.ReadDir(filepath.Join(fixtureDir, dir))
		require.NoError(t, err)
		for _, e := range entries {
			files = append(files, rpmpkg.File{Name: e.Name(), Body: readFixture(t, dir+"/"+e.Name())})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{
		Name: k.Package(), Version: k.Version.String(), Release: k.RPMRelease(), Arch: "src",
		Summary: "Kernel", License: "GPLv2", Files: files, Signer: o.signer,
	}))
	return buf.Bytes()
}

func buildDebuginfo(t testing.TB, k photon.Kernel, comment string, signer rpmpkg.Signer) []byte {
	t.Helper()
	if comment == "" {
		comment = "GCC: (GCC) 12.2.0"
	}
	dir := path.Dir(k.VmlinuxPath())
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{
		Name: k.Package() + "-debuginfo", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Debug information", License: "GPLv2", Compressor: "xz", Signer: signer,
		Files: []rpmpkg.File{
			{Name: k.VmlinuxPath(), Body: fakeVmlinux(comment), Mode: 0o644},
			{Name: dir + "/vmlinux", Mode: fs.ModeSymlink | 0o777, LinkTarget: path.Base(k.VmlinuxPath())},
		},
	}))
	return buf.Bytes()
}

// kernelTarball packs tree/ as linux-<version>/, plus a relative symlink.
func kernelTarball(t testing.TB, version string) []byte {
	return dirTarball(t, "tree", "linux-"+version, true)
}

func dirTarball(t testing.TB, src, prefix string, xzip bool) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	// kernel.org tarballs start with a pax global header (the git commit).
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "0123456789abcdef"}}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + "/", Mode: 0o755}))
	base := filepath.Join(fixtureDir, src)
	require.NoError(t, filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == base {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		name := prefix + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755})
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	}))
	if xzip {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + "/tools/", Mode: 0o755}))
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: prefix + "/tools/Makefile", Linkname: "../Makefile"}))
	}
	require.NoError(t, tw.Close())
	var out bytes.Buffer
	if xzip {
		w, err := xz.NewWriter(&out)
		require.NoError(t, err)
		_, err = w.Write(raw.Bytes())
		require.NoError(t, err)
		require.NoError(t, w.Close())
	} else {
		w := gzip.NewWriter(&out)
		_, err := w.Write(raw.Bytes())
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	return out.Bytes()
}

// writeRepodata writes repodata/repomd.xml and a primary list, compressed
// with gzip, xz or zstd depending on the release so all three are exercised.
func writeRepodata(t testing.TB, repoDir string, pkgs []PackageEntry) {
	t.Helper()
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.WriteString(`<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="` + fmt.Sprint(len(pkgs)) + `">` + "\n")
	for _, p := range pkgs {
		fmt.Fprintf(&x, `<package type="rpm"><name>%s</name><arch>%s</arch><version epoch="0" ver="%s" rel="%s"/>`+
			`<checksum type="sha256" pkgid="YES">%s</checksum><summary>Kernel</summary><size package="%d" installed="0" archive="0"/>`+
			`<location href="%s"/><format><rpm:license>GPLv2</rpm:license></format></package>`+"\n",
			p.Name, p.Arch, p.Version, p.Release, p.SHA256, p.Size, p.Href)
	}
	x.WriteString("</metadata>\n")
	var comp bytes.Buffer
	ext := ".gz"
	switch {
	case strings.Contains(repoDir, "4.0"):
		ext = ".xz"
		w, err := xz.NewWriter(&comp)
		require.NoError(t, err)
		_, _ = w.Write([]byte(x.String()))
		require.NoError(t, w.Close())
	case strings.Contains(repoDir, "5.0"):
		ext = ".zst"
		w, err := zstd.NewWriter(&comp)
		require.NoError(t, err)
		_, _ = w.Write([]byte(x.String()))
		require.NoError(t, w.Close())
	default:
		w := gzip.NewWriter(&comp)
		_, _ = w.Write([]byte(x.String()))
		require.NoError(t, w.Close())
	}
	sum := sha256.Sum256(comp.Bytes())
	name := hex.EncodeToString(sum[:]) + "-primary.xml" + ext
	writeFile(t, filepath.Join(repoDir, "repodata", name), comp.Bytes())
	md := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <data type="filelists"><checksum type="sha256">%[1]s</checksum><location href="repodata/%[1]s-filelists.xml.gz"/></data>
  <data type="primary"><checksum type="sha256">%[1]s</checksum><location href="repodata/%[2]s"/><size>%[3]d</size></data>
</repomd>
`, hex.EncodeToString(sum[:]), name, comp.Len())
	writeFile(t, filepath.Join(repoDir, "repodata", "repomd.xml"), []byte(md))
}

// fakeVmlinux is a minimal ELF64 file with a .comment section, enough for
// the compiler check.
func fakeVmlinux(comment string) []byte {
	commentData := []byte("\x00" + comment + "\x00")
	shstr := []byte("\x00.comment\x00.shstrtab\x00")
	const ehsize, shentsize = 64, 64
	commentOff := uint64(ehsize)
	shstrOff := commentOff + uint64(len(commentData))
	shoff := (shstrOff + uint64(len(shstr)) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	b.Write(make([]byte, 8))
	for _, v := range []any{uint16(2), uint16(62), uint32(1), uint64(0), uint64(0), shoff, uint32(0),
		uint16(ehsize), uint16(0), uint16(0), uint16(shentsize), uint16(3), uint16(2)} {
		_ = binary.Write(&b, le, v)
	}
	b.Write(commentData)
	b.Write(shstr)
	b.Write(make([]byte, int(shoff)-b.Len()))
	section := func(name, typ uint32, flags, off, size uint64, entsize uint64) {
		for _, v := range []any{name, typ, flags, uint64(0), off, size, uint32(0), uint32(0), uint64(1), entsize} {
			_ = binary.Write(&b, le, v)
		}
	}
	section(0, 0, 0, 0, 0, 0)
	section(1, 1, 0x30, commentOff, uint64(len(commentData)), 1) // PROGBITS, MERGE|STRINGS
	section(10, 3, 0, shstrOff, uint64(len(shstr)), 0)           // STRTAB
	return b.Bytes()
}
