// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// fakeLab runs the lab's tarball, tree and repo steps on fakeDebianTree
// with fakePatches; the config and vmlinux are stand-ins (no kernel build).
func fakeLab(t *testing.T) *preparer {
	t.Helper()
	requireTools(t, "xz", "tar", "patch")
	dir := t.TempDir()
	deb := filepath.Join(dir, "linux-source-6.1.tar.xz")
	writeTarXZ(t, deb, fakeDebianTree())
	p := newPreparer(Config{LabDir: filepath.Join(dir, "lab"), Assets: fakeAssets(t), DebianTarball: deb, Jobs: 1})
	require.NoError(t, p.setup("6.1.192-2"))
	ctx := t.Context()
	require.NoError(t, p.tarball(ctx))
	require.NoError(t, p.tree(ctx))
	for _, fb := range p.flavors {
		name, err := fb.k.ConfigFile()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(p.l.Dir, "SOURCES", name), []byte("CONFIG_A=y\nCONFIG_LOCALVERSION=\"\"\n# CONFIG_B is not set\n"), 0o644))
		require.NoError(t, os.MkdirAll(fb.fk.BuildDir, 0o755))
		require.NoError(t, os.WriteFile(fb.fk.Vmlinux, []byte("\x7fELF fake vmlinux "+fb.k.String()), 0o644))
		require.NoError(t, os.WriteFile(fb.fk.Config, []byte("CONFIG_LOCALVERSION=\"-1.ph5\"\n"), 0o644))
		require.NoError(t, os.WriteFile(fb.fk.ModuleSymvers, []byte("0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"), 0o644))
		require.NoError(t, os.MkdirAll(filepath.Join(fb.fk.BuildDir, "include/generated"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(fb.fk.BuildDir, "include/generated/utsrelease.h"), []byte("#define UTS_RELEASE \""+fb.k.String()+"\"\n"), 0o644))
	}
	require.NoError(t, p.repo(ctx))
	return p
}

func TestFakeTreeHasThePatches(t *testing.T) {
	p := fakeLab(t)
	hello, err := os.ReadFile(filepath.Join(p.l.Tree, "fs/hello.c"))
	require.NoError(t, err)
	require.Equal(t, "/* CVE fix */\nint hello(void)\n{\n\treturn 2;\n}\n", string(hello), "patches applied in order 1, 2, 100")
	require.FileExists(t, filepath.Join(p.l.Tree, "README"))
	require.NoDirExists(t, filepath.Dir(p.l.Tree)+".partial")
}

// TestRepoLayout checks the files, names and RPM contents Photon's
// tooling expects.
func TestRepoLayout(t *testing.T) {
	p := fakeLab(t)
	require.Equal(t, "linux-6.1.192-1.ph5.src.rpm", filepath.Base(p.l.SourceRPM))
	require.Equal(t, filepath.Join(p.l.RepoDir, "5.0/photon_srpms_5.0_x86_64/linux-6.1.192-1.ph5.src.rpm"), p.l.SourceRPM)
	require.Equal(t, filepath.Join(p.l.RepoDir, "5.0/photon_debuginfo_5.0_x86_64/x86_64/linux-debuginfo-6.1.192-1.ph5.x86_64.rpm"), p.l.DebuginfoRPM)

	src := inspect(t, p.l.SourceRPM)
	require.True(t, src.Source)
	names := map[string]bool{}
	for _, f := range src.Files {
		names[f.Name] = true
	}
	for _, want := range []string{"linux.spec", "linux-6.1.192.tar.xz", "config_x86_64", "0001-hello-return-two.patch", "0002-add-readme.patch", "0100-hello-comment.patch"} {
		require.True(t, names[want], "source RPM lacks %s (has %v)", want, names)
	}

	dbg := inspect(t, p.l.DebuginfoRPM)
	require.Equal(t, "linux-debuginfo", dbg.Name)
	var paths []string
	for _, f := range dbg.Files {
		paths = append(paths, f.Name)
	}
	require.Contains(t, paths, "/usr/lib/debug/lib/modules/6.1.192-1.ph5/vmlinux-6.1.192-1.ph5")
	require.Contains(t, paths, "/usr/lib/debug/lib/modules/6.1.192-1.ph5/vmlinux")

	devel := inspect(t, p.l.DevelRPM)
	require.Equal(t, "linux-devel", devel.Name)
	require.Equal(t, filepath.Join(p.l.RepoDir, "5.0/photon_updates_5.0_x86_64/x86_64/linux-devel-6.1.192-1.ph5.x86_64.rpm"), p.l.DevelRPM)
	develFiles := map[string]rpmpkg.FileInfo{}
	for _, f := range devel.Files {
		develFiles[f.Name] = f
	}
	for _, want := range []string{"/usr/src/linux-headers-6.1.192-1.ph5/Module.symvers", "/usr/src/linux-headers-6.1.192-1.ph5/.config",
		"/usr/src/linux-headers-6.1.192-1.ph5/Makefile", "/usr/src/linux-headers-6.1.192-1.ph5/include/generated/utsrelease.h"} {
		require.Contains(t, develFiles, want)
	}
	require.Equal(t, "/usr/src/linux-headers-6.1.192-1.ph5", develFiles["/lib/modules/6.1.192-1.ph5/build"].LinkTarget)
	symvers, err := kernelsrc.ExtractModuleSymvers(t.Context(), photon.MustParseKernel("6.1.192-1.ph5"), p.l.DevelRPM, t.TempDir())
	require.NoError(t, err)
	want, err := os.ReadFile(p.l.ModuleSymvers)
	require.NoError(t, err)
	got, err := os.ReadFile(symvers)
	require.NoError(t, err)
	require.Equal(t, want, got, "the devel RPM's Module.symvers is the build's")

	for _, kind := range []kernelsrc.PackageKind{kernelsrc.SourcePackage, kernelsrc.DebuginfoPackage, kernelsrc.DevelPackage} {
		repo := filepath.Join(p.l.RepoDir, kind.RepoPath(photon.MustParseKernel("6.1.192-1.ph5").Release()))
		f, err := os.Open(filepath.Join(repo, "repodata/repomd.xml"))
		require.NoError(t, err)
		md, err := kernelsrc.ParseRepoMD(f)
		f.Close()
		require.NoError(t, err)
		primary, err := md.Primary()
		require.NoError(t, err)
		data, err := os.ReadFile(filepath.Join(repo, primary.Location.Href))
		require.NoError(t, err)
		pkgs, err := kernelsrc.ReadPrimary(primary, data, nil)
		require.NoError(t, err)
		require.Len(t, pkgs, 2, "generic and aws")
		for _, pkg := range pkgs {
			sum, size, err := fileDigest(filepath.Join(repo, pkg.Href))
			require.NoError(t, err)
			require.Equal(t, sum, pkg.SHA256)
			require.Equal(t, size, pkg.Size)
		}
	}

	aws, err := p.l.Flavor(photon.AWS)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-1.ph5-aws", aws.KernelRelease)
	require.Equal(t, filepath.Join(p.l.RepoDir, "5.0/photon_srpms_5.0_x86_64/linux-aws-6.1.192-1.ph5.src.rpm"), aws.SourceRPM)
	src = inspect(t, aws.SourceRPM)
	names = map[string]bool{}
	for _, f := range src.Files {
		names[f.Name] = true
	}
	require.True(t, names["linux-aws.spec"] && names["config-aws"] && names["linux-6.1.192.tar.xz"], "aws source RPM: %v", names)
	require.False(t, names["config_x86_64"], "each flavor's source RPM carries its own config")
	_, err = p.l.Flavor(photon.RT)
	require.ErrorIs(t, err, ErrNoFlavor)
}

func inspect(t *testing.T, file string) *rpmpkg.Info {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Inspect(t.Context(), f, nil)
	require.NoError(t, err)
	return info
}

// TestPhotonPreparesTheLabTree is the lab's contract: package kernelsrc,
// fetching from the repository over HTTP with checksums from repodata,
// prepares exactly the tree the lab built from, with the same .config.
func TestPhotonPreparesTheLabTree(t *testing.T) {
	p := fakeLab(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(p.l.RepoDir)))
	t.Cleanup(srv.Close)
	want := treeDigest(t, p.l.Tree, nil)
	for _, f := range []photon.Flavor{photon.Generic, photon.AWS} {
		t.Run(string(f), func(t *testing.T) {
			fl, err := p.l.Flavor(f)
			require.NoError(t, err)
			k := photon.MustParseKernel(fl.KernelRelease)
			repo := &kernelsrc.Repo{BaseURLs: []string{srv.URL}, CacheDir: t.TempDir()}
			src, err := repo.Prepare(t.Context(), k, &kernelsrc.PrepareOptions{Dir: t.TempDir(), SkipCompilerCheck: true})
			require.NoError(t, err)

			got := treeDigest(t, src.Tree, map[string]bool{".config": true})
			if fl.SigningCert != "" {
				// generic's %prep adds the lab certificate its config names
				cert, err := os.ReadFile(fl.SigningCert)
				require.NoError(t, err)
				requireFile(t, filepath.Join(src.Tree, "certs", TrustedCertSource), cert, "generic's %prep copies the certificate")
				delete(got, "certs/"+TrustedCertSource)
			}
			require.Equal(t, sortedKeys(want), sortedKeys(got))
			require.Equal(t, want, got)

			config, err := os.ReadFile(src.Config)
			require.NoError(t, err)
			require.Equal(t, "CONFIG_A=y\nCONFIG_LOCALVERSION=\""+k.LocalVersion()+"\"\n# CONFIG_B is not set\n", string(config))
			vmlinux, err := os.ReadFile(src.Vmlinux)
			require.NoError(t, err)
			require.Equal(t, "\x7fELF fake vmlinux "+k.String(), string(vmlinux))
		})
	}
}

func TestRepoIsReproducible(t *testing.T) {
	p := fakeLab(t)
	first, err := os.ReadFile(p.l.SourceRPM)
	require.NoError(t, err)
	md1, err := os.ReadFile(filepath.Join(filepath.Dir(p.l.SourceRPM), "repodata/repomd.xml"))
	require.NoError(t, err)
	require.NoError(t, p.repo(context.Background()))
	second, err := os.ReadFile(p.l.SourceRPM)
	require.NoError(t, err)
	md2, err := os.ReadFile(filepath.Join(filepath.Dir(p.l.SourceRPM), "repodata/repomd.xml"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(first, second), "same inputs, same source RPM")
	require.Equal(t, string(md1), string(md2))
}

func TestTreeStepRefusesABadPatch(t *testing.T) {
	p := fakeLab(t)
	bad := filepath.Join(p.cfg.Assets, patchesDirName, "0003-does-not-apply.patch")
	require.NoError(t, os.WriteFile(bad, []byte("--- a/fs/hello.c\n+++ b/fs/hello.c\n@@ -1,2 +1,2 @@\n-nothing like this\n+x\n context\n"), 0o644))
	require.NoError(t, p.setup("6.1.192-2"))
	err := p.tree(t.Context())
	require.Error(t, err)
	require.Contains(t, err.Error(), "0003-does-not-apply.patch")
	require.NoDirExists(t, filepath.Dir(p.l.Tree), "a failed tree is not left as the tree")
}

func TestWriteRepodataBadPackage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "x86_64"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x86_64/nope.rpm"), []byte("not an rpm"), 0o644))
	err := writeRepodata(dir, time.Unix(0, 0))
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "nope.rpm"), err.Error())
	require.NoDirExists(t, filepath.Join(dir, "repodata"))
}
