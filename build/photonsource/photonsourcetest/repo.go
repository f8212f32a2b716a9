// SPDX-License-Identifier: Apache-2.0

// Package photonsourcetest builds a tiny Photon-layout package repository
// for tests of code that fetches and prepares Photon kernels (package
// photonsource, the auto_livepatch example): a source RPM with a spec in
// Photon's style, a kernel tarball holding a few files, the flavor's config,
// a debuginfo RPM with a stand-in vmlinux, optionally a devel RPM
// (AddDevel), and repodata with SHA-256 checksums. The tree it yields is not a real kernel: tests stop where a
// compiler would be needed, or use FakeMake.
package photonsourcetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// Compiler is the GCC string the stand-in vmlinux carries.
const Compiler = "GCC: (GCC) 12.2.0"

// CmdlineSource is fs/proc/cmdline.c of the fixture tree, the file
// testdata/patches/cmdline-string.patch changes.
const CmdlineSource = `// SPDX-License-Identifier: GPL-2.0
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <asm/setup.h>

static int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, saved_command_line);
	seq_putc(m, '\n');
	return 0;
}
`

// spec is a kernel spec in Photon's style, small enough for the fixture.
const spec = `Summary:        Kernel
Name:           %[1]s
Version:        %[2]s
Release:        %[3]d%%{?dist}
License:        GPLv2
Group:          System Environment/Kernel
Vendor:         VMware, Inc.
Distribution:   Photon

%%define uname_r %%{version}-%%{release}

Source0:        http://www.kernel.org/pub/linux/kernel/v6.x/linux-%%{version}.tar.xz
Source1:        %[4]s

%%description
The Linux package contains the Linux kernel.

%%prep
%%setup -q -n linux-%%{version}
make mrproper
cp %%{SOURCE1} .config
sed -i 's/CONFIG_LOCALVERSION=""/CONFIG_LOCALVERSION="-%%{release}"/' .config
`

// Repo is a fixture repository on disk.
type Repo struct {
	// Dir is the repository root (a base URL's directory).
	Dir string
	// Kernels are the kernels it holds.
	Kernels []photon.Kernel

	devel []kernelsrc.PackageEntry // AddDevel's packages
}

// NewRepo writes a repository holding the packages of each kernel
// (uname -r strings) under a new temporary directory.
func NewRepo(t testing.TB, kernels ...string) *Repo {
	t.Helper()
	r := &Repo{Dir: t.TempDir()}
	byRepo := map[string][]kernelsrc.PackageEntry{}
	for _, s := range kernels {
		k, err := photon.ParseKernel(s)
		require.NoError(t, err)
		r.Kernels = append(r.Kernels, k)
		srpm := sourceRPM(t, k)
		debug := debuginfoRPM(t, k)
		for _, p := range []struct {
			kind kernelsrc.PackageKind
			arch string
			data []byte
		}{{kernelsrc.SourcePackage, "src", srpm}, {kernelsrc.DebuginfoPackage, "x86_64", debug}} {
			repo := p.kind.RepoPath(k.Release())
			href := p.kind.PackagePath(k)
			write(t, filepath.Join(r.Dir, repo, href), p.data)
			sum := sha256.Sum256(p.data)
			byRepo[repo] = append(byRepo[repo], kernelsrc.PackageEntry{Name: k.Package(), Arch: p.arch, Href: href,
				SHA256: hex.EncodeToString(sum[:]), Size: int64(len(p.data)), Version: k.Version.String(), Release: k.RPMRelease()})
		}
	}
	for repo, pkgs := range byRepo {
		writeRepodata(t, filepath.Join(r.Dir, repo), pkgs)
	}
	return r
}

// AddDevel publishes kernel k's devel RPM, holding symvers as the
// Module.symvers of its headers directory, in the updates repository
// (where Photon publishes kernels after GA), and rewrites its repodata.
func (r *Repo) AddDevel(t testing.TB, k photon.Kernel, symvers []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{
		Name: k.Package() + "-devel", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Kernel Dev", License: "GPLv2",
		Files: []rpmpkg.File{
			{Name: k.HeadersDir() + "/.config", Body: []byte("CONFIG_LIVEPATCH=y\n"), Mode: 0o644},
			{Name: k.ModuleSymversPath(), Body: symvers, Mode: 0o644},
			{Name: "/lib/modules/" + k.String() + "/build", Mode: fs.ModeSymlink | 0o777, LinkTarget: k.HeadersDir()},
		},
	}))
	repo := kernelsrc.DevelPackage.RepoPath(k.Release())
	href := kernelsrc.DevelPackage.PackagePath(k)
	write(t, filepath.Join(r.Dir, repo, href), buf.Bytes())
	sum := sha256.Sum256(buf.Bytes())
	r.devel = append(r.devel, kernelsrc.PackageEntry{Name: k.Package() + "-devel", Arch: "x86_64", Href: href,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len()), Version: k.Version.String(), Release: k.RPMRelease()})
	writeRepodata(t, filepath.Join(r.Dir, repo), r.devel)
}

// Serve serves the repository on loopback for the test's lifetime and
// returns its base URL.
func (r *Repo) Serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(r.Dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Corrupt flips bytes of kernel k's package file, keeping its size and
// the repodata, so that only its checksum tells.
func (r *Repo) Corrupt(t testing.TB, k photon.Kernel, kind kernelsrc.PackageKind) {
	t.Helper()
	name := filepath.Join(r.Dir, kind.RepoPath(k.Release()), kind.PackagePath(k))
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	for i := len(data) / 2; i < len(data)/2+16 && i < len(data); i++ {
		data[i] ^= 0xff
	}
	write(t, name, data)
}

// TempDir is a new directory, removed at the end of the test, that every
// user may pass through, unlike t.TempDir (whose parent is mode 0700): as
// root, photonsource runs make as an unprivileged build user, which must
// reach the prepared trees (Source.Dir) and the make program by path.
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "klpkit-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// FakeMake writes a make stand-in for photonsource.Source.Make: it
// accepts -C DIR (default the working directory) and targets, writes
// DIR/Module.symvers for "modules", records its arguments in DIR/make.log
// and the uid it ran as in DIR/make.uid.
func FakeMake(t testing.TB) string {
	t.Helper()
	script := `#!/bin/sh
dir=.
while [ $# -gt 0 ]; do
	case "$1" in
	-C) dir="$2"; shift 2; continue ;;
	modules) printf '0x00000000\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n' > "$dir/Module.symvers" ;;
	esac
	echo "$1" >> "$dir/make.log"
	shift
done
id -u >> "$dir/make.uid"
`
	p := filepath.Join(TempDir(t), "make")
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func sourceRPM(t testing.TB, k photon.Kernel) []byte {
	t.Helper()
	config, err := k.ConfigFile()
	require.NoError(t, err)
	files := []rpmpkg.File{
		{Name: k.Package() + ".spec", Body: fmt.Appendf(nil, spec, k.Package(), k.Version, k.Build, config)},
		{Name: "linux-" + k.Version.String() + ".tar.xz", Body: tarball(t, "linux-"+k.Version.String())},
		{Name: config, Body: []byte("CONFIG_LOCALVERSION=\"\"\nCONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")},
	}
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{Name: k.Package(), Version: k.Version.String(), Release: k.RPMRelease(),
		Arch: "src", Summary: "Kernel", License: "GPLv2", Files: files}))
	return buf.Bytes()
}

func debuginfoRPM(t testing.TB, k photon.Kernel) []byte {
	t.Helper()
	var buf bytes.Buffer
	dir := path.Dir(k.VmlinuxPath())
	require.NoError(t, rpmpkg.Write(&buf, rpmpkg.Spec{
		Name: k.Package() + "-debuginfo", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Debug information", License: "GPLv2", Compressor: "xz",
		Files: []rpmpkg.File{
			{Name: k.VmlinuxPath(), Body: Vmlinux(t, k.String()), Mode: 0o644},
			{Name: dir + "/vmlinux", Mode: fs.ModeSymlink | 0o777, LinkTarget: path.Base(k.VmlinuxPath())},
		},
	}))
	return buf.Bytes()
}

// Vmlinux is a stand-in vmlinux: an ELF file with the compiler in
// .comment and the kernel's banner in .rodata.
func Vmlinux(t testing.TB, release string) []byte {
	t.Helper()
	comment := "\x00" + Compiler + "\x00"
	banner := "Linux version " + release + " (root@photon) (gcc (GCC) 12.2.0) #1-photon SMP\n\x00"
	f := &elfobj.File{Machine: elf.EM_X86_64, Symbols: []*elfobj.Symbol{{}}, Sections: []*elfobj.Section{{},
		{Name: ".rodata", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1, Data: []byte(banner), Size: uint64(len(banner))},
		{Name: ".comment", Type: elf.SHT_PROGBITS, Flags: elf.SHF_MERGE | elf.SHF_STRINGS, Addralign: 1, Entsize: 1, Data: []byte(comment), Size: uint64(len(comment))},
	}}
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))
	return buf.Bytes()
}

// tarball packs a minimal kernel tree under prefix/, xz-compressed.
func tarball(t testing.TB, prefix string) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range []struct{ name, body string }{
		{"Makefile", "VERSION = 6\nPATCHLEVEL = 1\n"},
		{"fs/proc/cmdline.c", CmdlineSource},
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: prefix + "/" + f.name, Mode: 0o644, Size: int64(len(f.body))}))
		_, err := tw.Write([]byte(f.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	var out bytes.Buffer
	w, err := xz.NewWriter(&out)
	require.NoError(t, err)
	_, err = w.Write(raw.Bytes())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

// writeRepodata writes repodata/repomd.xml and a gzip primary list.
func writeRepodata(t testing.TB, repoDir string, pkgs []kernelsrc.PackageEntry) {
	t.Helper()
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&x, `<metadata xmlns="http://linux.duke.edu/metadata/common" packages="%d">`+"\n", len(pkgs))
	for _, p := range pkgs {
		fmt.Fprintf(&x, `<package type="rpm"><name>%s</name><arch>%s</arch><version epoch="0" ver="%s" rel="%s"/>`+
			`<checksum type="sha256" pkgid="YES">%s</checksum><size package="%d"/><location href="%s"/></package>`+"\n",
			p.Name, p.Arch, p.Version, p.Release, p.SHA256, p.Size, p.Href)
	}
	x.WriteString("</metadata>\n")
	var comp bytes.Buffer
	w := gzip.NewWriter(&comp)
	_, _ = w.Write([]byte(x.String()))
	require.NoError(t, w.Close())
	sum := sha256.Sum256(comp.Bytes())
	name := hex.EncodeToString(sum[:]) + "-primary.xml.gz"
	write(t, filepath.Join(repoDir, "repodata", name), comp.Bytes())
	md := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="primary"><checksum type="sha256">%s</checksum><location href="repodata/%s"/><size>%d</size></data>
</repomd>
`, hex.EncodeToString(sum[:]), name, comp.Len())
	write(t, filepath.Join(repoDir, "repodata", "repomd.xml"), []byte(md))
}

func write(t testing.TB, name string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, data, 0o644))
}
