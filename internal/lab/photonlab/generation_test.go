// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/specprep"
	"github.com/stretchr/testify/require"
)

func TestParseGeneration(t *testing.T) {
	tests := []struct {
		in      string
		want    Generation
		release string
		debian  lab.Generation
		assets  string
		flavors []photon.Flavor
	}{
		{"", PH5, "5.0", lab.Bookworm61, "a", []photon.Flavor{photon.Generic, photon.AWS}},
		{"ph5", PH5, "5.0", lab.Bookworm61, "a", []photon.Flavor{photon.Generic, photon.AWS}},
		{"5.0", PH5, "5.0", lab.Bookworm61, "a", []photon.Flavor{photon.Generic, photon.AWS}},
		{"ph4", PH4, "4.0", lab.Bullseye510, "a/ph4", []photon.Flavor{photon.Generic}},
		{"4.0", PH4, "4.0", lab.Bullseye510, "a/ph4", []photon.Flavor{photon.Generic}},
	}
	for _, tt := range tests {
		g, err := ParseGeneration(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, g, tt.in)
		require.Equal(t, tt.release, g.PhotonRelease(), tt.in)
		require.Equal(t, tt.debian, g.Debian(), tt.in)
		require.Equal(t, tt.assets, g.assets("a"), tt.in)
		require.Equal(t, tt.flavors, g.defaultFlavors(), tt.in)
	}
	for _, bad := range []string{"ph3", "3.0", "6.1", "PH4", "ph", "4"} {
		_, err := ParseGeneration(bad)
		require.ErrorIs(t, err, ErrUnknownGeneration, bad)
	}
}

func TestGenerationOwns(t *testing.T) {
	tests := []struct {
		uname string
		g     Generation
		want  bool
	}{
		{"6.1.192-1.ph5", PH5, true},
		{"6.1.192-1.ph5-aws", PH5, true},
		{"6.1.192-1.ph5", PH4, false},
		{"5.10.262-1.ph4", PH4, true},
		{"5.10.262-1.ph4-rt", PH4, true},
		{"5.10.262-1.ph4", PH5, false},
		{"4.19.325-1.ph3", PH4, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.g.owns(photon.MustParseKernel(tt.uname)), "%s %s", tt.uname, tt.g)
	}
}

// TestBuildSeed: the 5.0 lab's kernel digests are what they were before
// generations (no root); a lab built in a toolchain root names it.
func TestBuildSeed(t *testing.T) {
	tests := []struct {
		deb  *lab.Lab
		want string
	}{
		{nil, " build"},
		{&lab.Lab{}, " build"},
		{&lab.Lab{ToolchainRoot: "/l/5.10/toolchain/roots/2f5f"}, " build in 2f5f"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, (&preparer{debLab: tt.deb}).buildSeed())
	}
}

// TestPH4AssetsFit5_10 keeps the ph4 fragment free of what 5.10's Kconfig
// lacks (checkConfig would refuse the build) and its patches readable.
func TestPH4AssetsFit5_10(t *testing.T) {
	dir := PH4.assets(assetsDir)
	data, err := os.ReadFile(filepath.Join(dir, fragmentName))
	require.NoError(t, err)
	opts, err := parseConfig(fragmentName, data)
	require.NoError(t, err)
	have := map[string]string{}
	for _, o := range opts {
		have[o.Name] = o.Value
	}
	for _, must := range []string{"CONFIG_LIVEPATCH", "CONFIG_DYNAMIC_FTRACE", "CONFIG_KALLSYMS_ALL", "CONFIG_MODVERSIONS", "CONFIG_DEVPORT", "CONFIG_DEBUG_INFO",
		// the vmtest guest's Go /init
		"CONFIG_FUTEX", "CONFIG_EPOLL", "CONFIG_POSIX_TIMERS", "CONFIG_EVENTFD"} {
		require.Equal(t, "y", have[must], must)
	}
	for _, off := range []string{"CONFIG_EMBEDDED", "CONFIG_EXPERT"} {
		v, ok := have[off]
		require.True(t, ok && v == "", "%s must be turned off: 5.10's allnoconfig sets EMBEDDED, which selects EXPERT", off)
	}
	for _, only61 := range []string{"CONFIG_MODULE_COMPRESS_NONE", "CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT", "CONFIG_X86_KERNEL_IBT"} {
		require.NotContains(t, have, only61, "not in 5.10's Kconfig")
	}
	require.Equal(t, `""`, have["CONFIG_LOCALVERSION"])
	patches, err := readPatches(filepath.Join(dir, patchesDirName))
	require.NoError(t, err)
	five, err := readPatches(filepath.Join(assetsDir, patchesDirName))
	require.NoError(t, err)
	require.Len(t, patches, len(five), "the same patches as 5.0, made for 5.10")
	for i := range patches {
		require.Equal(t, five[i].Number, patches[i].Number)
	}
}

// TestRenderPH4SpecParsesAsPhoton40 renders the ph4 template and reads it
// back with specprep as a 4.0 spec, as kernelsrc.Prepare will.
func TestRenderPH4SpecParsesAsPhoton40(t *testing.T) {
	dir := PH4.assets(assetsDir)
	patches, err := readPatches(filepath.Join(dir, patchesDirName))
	require.NoError(t, err)
	params, err := specParamsFor(photon.MustParseKernel("5.10.262-1.ph4"), strings.Repeat("cd", 64), patches, TrustedCertSource)
	require.NoError(t, err)
	text, err := renderSpec(filepath.Join(dir, specTemplateName), params)
	require.NoError(t, err)
	spec, err := specprep.ParseSpec("linux.spec", text, specprep.SpecOptions{Arch: "x86_64", Dist: ".ph4"})
	require.NoError(t, err)
	require.Equal(t, "linux", spec.Name)
	require.Equal(t, "5.10.262", spec.Version)
	require.Equal(t, "1.ph4", spec.Release)
	require.Equal(t, "linux-5.10.262.tar.xz", spec.Sources[0])
	require.Equal(t, "config_x86_64", spec.Sources[1])
	require.Equal(t, TrustedCertSource, spec.Sources[2])
	for _, p := range patches {
		require.Equal(t, p.File, spec.Patches[p.Number])
	}
	var prep []string
	for _, l := range spec.Prep {
		prep = append(prep, l.Text)
	}
	require.Contains(t, strings.Join(prep, "\n"), `CONFIG_LOCALVERSION="-1.ph4"`)
	require.Contains(t, string(text), "kernel/v5.x/linux-%{version}.tar.xz")
	require.Contains(t, string(text), "CC=gcc-10 HOSTCC=gcc-10")
}

// TestOpenGeneration: Open keeps returning the newest lab (the 6.1 one),
// OpenGeneration the newest of a Photon release.
func TestOpenGeneration(t *testing.T) {
	labDir := t.TempDir()
	for _, uname := range []string{"6.1.192-1.ph5", "5.10.262-1.ph4", "5.10.250-1.ph4"} {
		writeFakeLab(t, filepath.Join(PhotonDir(labDir), uname), uname)
	}
	l, err := Open(labDir)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-1.ph5", l.KernelRelease)
	for g, want := range map[Generation]string{PH5: "6.1.192-1.ph5", PH4: "5.10.262-1.ph4"} {
		l, err := OpenGeneration(labDir, g)
		require.NoError(t, err, g)
		require.Equal(t, want, l.KernelRelease, g)
	}
	_, err = OpenGeneration(t.TempDir(), PH4)
	require.ErrorIs(t, err, ErrNotPrepared)
	_, err = OpenGeneration(labDir, "ph3")
	require.ErrorIs(t, err, ErrUnknownGeneration)
}

// writeFakeLab writes a manifest whose every file exists.
func writeFakeLab(t *testing.T, dir, uname string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	file := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(name), 0o644))
		return p
	}
	l := Lab{KernelRelease: uname, Vmlinuz: file("bzImage"), Vmlinux: file("vmlinux"), Config: file("config"),
		Tree: dir, BuildDir: dir, ModuleSymvers: file("Module.symvers"), RepoDir: dir,
		SourceRPM: file("src.rpm"), DebuginfoRPM: file("debuginfo.rpm"), DevelRPM: file("devel.rpm")}
	data, err := json.Marshal(l)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), data, 0o644))
}
