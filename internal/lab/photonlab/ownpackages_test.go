// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/selfrpm"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// primaryPackage is what a resolver (tdnf's libsolv) reads of a package
// in primary.xml.
type primaryPackage struct {
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Ver string `xml:"ver,attr"`
		Rel string `xml:"rel,attr"`
	} `xml:"version"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Format struct {
		Vendor    string         `xml:"vendor"`
		Provides  []primaryEntry `xml:"provides>entry"`
		Requires  []primaryEntry `xml:"requires>entry"`
		Obsoletes []primaryEntry `xml:"obsoletes>entry"`
		Conflicts []primaryEntry `xml:"conflicts>entry"`
		Files     []string       `xml:"file"`
	} `xml:"format"`
}

type primaryEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
}

// readPrimaryXML reads a repository's primary list through its repomd.xml,
// checksums verified by package kernelsrc, as tdnf does.
func readPrimaryXML(t *testing.T, repoDir string) []primaryPackage {
	t.Helper()
	f, err := os.Open(filepath.Join(repoDir, "repodata/repomd.xml"))
	require.NoError(t, err)
	md, err := kernelsrc.ParseRepoMD(f)
	f.Close()
	require.NoError(t, err)
	entry, err := md.Primary()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(repoDir, entry.Location.Href))
	require.NoError(t, err)
	listed, err := kernelsrc.ReadPrimary(entry, data, nil)
	require.NoError(t, err, "kernelsrc reads the list")
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	var md2 struct {
		Packages []primaryPackage `xml:"package"`
	}
	require.NoError(t, xml.Unmarshal(plain, &md2))
	require.Len(t, md2.Packages, len(listed))
	return md2.Packages
}

// whatProvides returns the packages that satisfy a requirement, as a
// resolver matches it: a provide of that name whose version satisfies
// the requirement's (a package provides its own name at its version).
func whatProvides(pkgs []primaryPackage, req primaryEntry) []string {
	var names []string
	for _, p := range pkgs {
		provides := append([]primaryEntry{{Name: p.Name, Flags: "EQ", Ver: p.Version.Ver, Rel: p.Version.Rel}}, p.Format.Provides...)
		for _, pr := range provides {
			if pr.Name == req.Name && satisfies(pr, req) {
				names = append(names, p.Name)
				break
			}
		}
	}
	return names
}

// satisfies compares an EQ provide with a requirement, version by
// dot-separated numbers (enough for the versions here), then release
// when the requirement names one.
func satisfies(pr, req primaryEntry) bool {
	if req.Flags == "" {
		return true
	}
	c := compareDotted(pr.Ver, req.Ver)
	if c == 0 && req.Rel != "" {
		c = compareDotted(pr.Rel, req.Rel)
	}
	switch req.Flags {
	case "EQ":
		return c == 0
	case "GE":
		return c >= 0
	case "GT":
		return c > 0
	case "LE":
		return c <= 0
	case "LT":
		return c < 0
	}
	return false
}

func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errX := strconv.Atoi(as[i])
		y, errY := strconv.Atoi(bs[i])
		if errX != nil || errY != nil {
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
			continue
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(as) - len(bs)
}

func entryOf(rel string) primaryEntry {
	f := strings.Fields(rel)
	e := primaryEntry{Name: f[0]}
	if len(f) == 3 {
		e.Flags = rpmFlags[f[1]]
		e.Ver, e.Rel, _ = strings.Cut(f[2], "-")
	}
	return e
}

// ownInputs stand in for the built commands.
func ownInputs() selfrpm.Inputs {
	return selfrpm.Inputs{Kpatch: []byte("\x7fELF kpatch"), KpatchBuild: []byte("\x7fELF kpatch-build"),
		AutoLivepatch: []byte("\x7fELF auto_livepatch"), License: []byte("Apache License 2.0\n"),
		Unit: []byte("[Service]\nExecStart=" + selfrpm.KpatchPath + " load --all\n")}
}

func writeOwnPackages(t *testing.T, release string, dists ...string) []string {
	t.Helper()
	files, err := selfrpm.WriteDir(t.TempDir(), ownInputs(), selfrpm.Options{Version: "0", Release: release, Dists: dists,
		BuildTime: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return files
}

// The lab's updates repository carries klpkit's packages beside the
// kernels' devel RPMs, and its primary list resolves what a livepatch
// RPM requires (both generations) to klpkit's kpatch, which replaces
// Photon's; a rerun with a new build replaces the old packages.
func TestOwnPackagesResolve(t *testing.T) {
	p := fakeLab(t)
	p.cfg.Packages = writeOwnPackages(t, "1", "ph5")
	var err error
	p.l.Packages, err = p.ownPackagePaths()
	require.NoError(t, err)
	require.NoError(t, p.ownPackages(t.Context()))
	updates := filepath.Join(p.l.RepoDir, "5.0/photon_updates_5.0_x86_64")
	for _, f := range p.l.Packages {
		require.FileExists(t, f)
		require.Equal(t, filepath.Join(updates, "x86_64"), filepath.Dir(f))
	}

	pkgs := readPrimaryXML(t, updates)
	byName := map[string]primaryPackage{}
	for _, pkg := range pkgs {
		byName[pkg.Name] = pkg
		require.FileExists(t, filepath.Join(updates, pkg.Location.Href))
	}
	require.Len(t, pkgs, 5, "two kernels' devel RPMs and klpkit's three packages")
	require.Contains(t, byName, "linux-devel")
	require.Contains(t, byName, "linux-aws-devel")
	kp := byName[selfrpm.KpatchName]
	require.Equal(t, "1.ph5", kp.Version.Rel)
	require.Equal(t, "klpkit", kp.Format.Vendor)
	require.Contains(t, kp.Format.Provides, primaryEntry{Name: "kpatch", Flags: "EQ", Ver: selfrpm.KpatchCompat})
	require.Contains(t, kp.Format.Obsoletes, primaryEntry{Name: "kpatch", Flags: "LE", Ver: selfrpm.KpatchCompat})
	require.Contains(t, kp.Format.Conflicts, primaryEntry{Name: "kpatch", Flags: "GT", Ver: selfrpm.KpatchCompat})
	require.Contains(t, kp.Format.Files, selfrpm.KpatchPath, "tdnf install /usr/sbin/kpatch finds it")
	require.Contains(t, byName[selfrpm.UtilsName].Format.Files, selfrpm.AutoShPath)
	for _, r := range byName[selfrpm.UtilsName].Format.Requires {
		require.NotContains(t, r.Name, "rpmlib(", "rpm's own features are no package's")
	}
	require.Contains(t, byName[selfrpm.UtilsName].Format.Requires, primaryEntry{Name: "gcc"}, "kpatch-utils needs the compiler (from Photon's base repository)")

	// What livepatch RPMs require: klpkit's own (Gen-1) and Photon's Gen-2.
	const kernel = "6.1.192-1.ph5"
	var lp bytes.Buffer
	require.NoError(t, rpmpkg.Build(&lp, rpmpkg.Package{Name: "livepatch-test", Kernel: kernel, BuildTime: time.Unix(0, 0),
		Module: kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "livepatch_test", Vermagic: kernel + " SMP mod_unload modversions ", Livepatch: true})}))
	info, err := rpmpkg.Read(&lp)
	require.NoError(t, err)
	var checked int
	for _, req := range append(info.Requires, "kpatch >= 0.9.10-1") {
		if strings.HasPrefix(req, "rpmlib(") || strings.HasPrefix(req, "/") {
			continue
		}
		require.Equal(t, []string{selfrpm.KpatchName}, whatProvides(pkgs, entryOf(req)), "what provides %q", req)
		checked++
	}
	require.Equal(t, 2, checked, "kpatch and kpatch >= 0.9.10-1")
	require.Empty(t, whatProvides(pkgs, entryOf("kpatch > "+selfrpm.KpatchCompat)), "nothing newer than klpkit's provide")

	// A new build replaces the old one's files.
	old := p.l.Packages
	p.cfg.Packages = writeOwnPackages(t, "2", "ph5")
	p.l.Packages, err = p.ownPackagePaths()
	require.NoError(t, err)
	require.NoError(t, p.ownPackages(t.Context()))
	for _, f := range old {
		require.NoFileExists(t, f)
	}
	pkgs = readPrimaryXML(t, updates)
	require.Len(t, pkgs, 5)
	for _, pkg := range pkgs {
		if strings.HasPrefix(pkg.Name, "klpkit-") {
			require.Equal(t, "2.ph5", pkg.Version.Rel)
		}
	}
	require.FileExists(t, p.l.DevelRPM, "the kernel packages stay")
}

func TestOwnPackagesRefused(t *testing.T) {
	p := fakeLab(t)
	ph4 := writeOwnPackages(t, "1", "ph4")
	renamed := filepath.Join(t.TempDir(), "kpatch-0-1.ph5.x86_64.rpm")
	data, err := os.ReadFile(writeOwnPackages(t, "1", "ph5")[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(renamed, data, 0o644))
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{ph4[:1], "is not for Photon 5.0: release 1.ph4 lacks .ph5"},
		{[]string{renamed}, "its header says " + selfrpm.KpatchName},
		{[]string{"/nowhere/x.tar.gz"}, "not NAME-VERSION-RELEASE"},
	} {
		p.cfg.Packages = tc.files
		_, err := p.ownPackagePaths()
		if err == nil {
			err = p.ownPackages(t.Context())
		}
		require.ErrorContains(t, err, tc.want, "%v", tc.files)
	}
}
