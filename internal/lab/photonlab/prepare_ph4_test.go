// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/photon"
	"github.com/stretchr/testify/require"
)

// TestPrepareGenerationPH4 runs the whole Prepare of a ph4 lab on a fake
// 5.10 tree with a fake make: the Debian lab it reads is the 5.10 one
// (<lab>/5.10), the kernel is <version>-1.ph4 and generic only, its
// config, spec and patches are the assets' ph4 ones, and the packages are
// in Photon 4.0's repositories.
func TestPrepareGenerationPH4(t *testing.T) {
	requireTools(t, "xz", "tar", "patch", "bash")
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	// Only the 5.10 lab: ph4 must not need the 6.1 one.
	kdir := filepath.Join(labDir, "5.10", "5.10.0-46-amd64")
	require.NoError(t, os.MkdirAll(filepath.Join(kdir, "headers"), 0o755))
	paths := map[string]string{}
	for _, f := range []string{"vmlinuz", "config", "vmlinux", "System.map"} {
		paths[f] = filepath.Join(kdir, f)
		require.NoError(t, os.WriteFile(paths[f], []byte(f), 0o644))
	}
	manifest, err := json.Marshal(map[string]string{"kernel_release": "5.10.0-46-amd64", "version": "5.10.262-1",
		"vmlinuz": paths["vmlinuz"], "config": paths["config"], "vmlinux": paths["vmlinux"], "system_map": paths["System.map"],
		"headers_dir": filepath.Join(kdir, "headers"), "generation": "5.10"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(labDir, "5.10", "lab.json"), manifest, 0o644))

	var entries []fakeEntry
	for _, e := range fakeDebianTree() {
		e.Name = strings.Replace(e.Name, "linux-source-6.1", "linux-source-5.10", 1)
		e.Link = strings.Replace(e.Link, "linux-source-6.1", "linux-source-5.10", 1)
		if strings.HasSuffix(e.Name, "/Makefile") && e.Type != tar.TypeSymlink {
			e.Body = "VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 262\nEXTRAVERSION =\n"
		}
		entries = append(entries, e)
	}
	entries = append(entries,
		fakeEntry{Name: "linux-source-5.10/scripts/kconfig/", Type: '5', Mode: 0o755},
		fakeEntry{Name: "linux-source-5.10/scripts/kconfig/merge_config.sh", Body: fakeMergeConfig, Mode: 0o755})
	deb := filepath.Join(dir, "linux-source-5.10.tar.xz")
	writeTarXZ(t, deb, entries)
	mk := filepath.Join(dir, "make")
	require.NoError(t, os.WriteFile(mk, []byte(strings.ReplaceAll(fakeMake, "6.1.192", "5.10.262")), 0o755))

	// The ph4 assets: the real fragment and template, the fake patches.
	assets := t.TempDir()
	ph4 := PH4.assets(assets)
	require.NoError(t, os.MkdirAll(filepath.Join(ph4, patchesDirName), 0o755))
	for _, f := range []string{specTemplateName, fragmentName} {
		data, err := os.ReadFile(filepath.Join(PH4.assets(assetsDir), f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(ph4, f), data, 0o644))
	}
	for name, body := range fakePatches {
		require.NoError(t, os.WriteFile(filepath.Join(ph4, patchesDirName, name), []byte(body), 0o644))
	}

	l, err := Prepare(t.Context(), Config{LabDir: labDir, Assets: assets, DebianTarball: deb, Make: mk, Jobs: 1, Generation: PH4})
	require.NoError(t, err)
	require.Equal(t, "5.10.262-1.ph4", l.KernelRelease)
	require.Equal(t, filepath.Join(PhotonDir(labDir), "5.10.262-1.ph4"), l.Dir)
	require.Len(t, l.Flavors, 1, "ph4 builds generic only by default")
	require.Equal(t, photon.Generic, l.Flavors[0].Flavor)
	for what, p := range map[string]string{
		l.SourceRPM:    "4.0/photon_srpms_4.0_x86_64/linux-5.10.262-1.ph4.src.rpm",
		l.DebuginfoRPM: "4.0/photon_debuginfo_4.0_x86_64/x86_64/linux-debuginfo-5.10.262-1.ph4.x86_64.rpm",
		l.DevelRPM:     "4.0/photon_updates_4.0_x86_64/x86_64/linux-devel-5.10.262-1.ph4.x86_64.rpm",
	} {
		require.Equal(t, filepath.Join(l.RepoDir, p), what)
		require.FileExists(t, what)
	}
	config, err := os.ReadFile(l.Config)
	require.NoError(t, err)
	require.Contains(t, string(config), `CONFIG_LOCALVERSION="-1.ph4"`)
	require.Contains(t, string(config), "CONFIG_SHMEM=y", "the ph4 fragment is merged")
	require.NotContains(t, string(config), "CONFIG_MODULE_COMPRESS_NONE", "not the 5.0 fragment")
	require.Contains(t, string(config), "CONFIG_MODULE_SIG_SHA512=y", "generic signs its modules")
	require.FileExists(t, l.SigningCert)
	require.Empty(t, l.ToolchainRoot, "the fake 5.10 lab has no root: make ran on the host")
	spec, err := os.ReadFile(filepath.Join(l.Dir, "SOURCES", "linux.spec"))
	require.NoError(t, err)
	require.Contains(t, string(spec), "Release:        1%{?acvp_build:.acvp}%{?kat_build:.kat}%{?dist}")
	require.Contains(t, string(spec), "CC=gcc-10 HOSTCC=gcc-10", "the ph4 template")

	opened, err := OpenGeneration(labDir, PH4)
	require.NoError(t, err)
	require.Equal(t, l.KernelRelease, opened.KernelRelease)
	_, err = OpenGeneration(labDir, PH5)
	require.ErrorIs(t, err, ErrNotPrepared)

	// A second run does nothing: the same digests.
	before, err := os.ReadFile(filepath.Join(l.BuildDir, "builds"))
	require.NoError(t, err)
	_, err = Prepare(t.Context(), Config{LabDir: labDir, Assets: assets, DebianTarball: deb, Make: mk, Jobs: 1, Generation: PH4})
	require.NoError(t, err)
	after, err := os.ReadFile(filepath.Join(l.BuildDir, "builds"))
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
}
