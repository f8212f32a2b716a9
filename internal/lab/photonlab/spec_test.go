// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/specprep"
	"github.com/stretchr/testify/require"
)

func TestReadPatchesRealAssets(t *testing.T) {
	patches, err := readPatches(filepath.Join(assetsDir, patchesDirName))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(patches), 3)
	for i, p := range patches {
		_, ok := rangeOf(p.Number)
		require.True(t, ok, p.File)
		if i > 0 {
			require.Less(t, patches[i-1].Number, p.Number)
		}
	}
}

func TestReadPatchesErrors(t *testing.T) {
	tests := []struct {
		files []string
		want  string
	}{
		{[]string{"fix.patch"}, "must start with its number"},
		{[]string{"12x-fix.patch"}, "must start with its number"},
		{[]string{"0001-a.patch", "1-b.patch"}, "both are Patch1"},
		{[]string{"0060-a.patch"}, "in no %autopatch range"},
		{nil, "no *.patch files"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, f := range tt.files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
		}
		_, err := readPatches(dir)
		require.ErrorContains(t, err, tt.want, "%v", tt.files)
	}
}

// TestRenderSpecParsesAsPhoton renders the real template and reads it back
// with package specprep's spec parser, as kernelsrc.Prepare will.
func TestRenderSpecParsesAsPhoton(t *testing.T) {
	patches, err := readPatches(filepath.Join(assetsDir, patchesDirName))
	require.NoError(t, err)
	for _, tt := range []struct{ uname, name, config, sed, cert string }{
		{"6.1.192-1.ph5", "linux", "config_x86_64", `CONFIG_LOCALVERSION="-1.ph5"`, TrustedCertSource},
		{"6.1.192-1.ph5-aws", "linux-aws", "config-aws", `CONFIG_LOCALVERSION="-1.ph5-aws"`, TrustedCertSource},
		// a flavor without the lab key (none of the lab's today)
		{"6.1.192-1.ph5-rt", "linux-rt", "config-rt", `CONFIG_LOCALVERSION="-1.ph5-rt"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			params, err := specParamsFor(photon.MustParseKernel(tt.uname), strings.Repeat("ab", 64), patches, tt.cert)
			require.NoError(t, err)
			text, err := renderSpec(filepath.Join(assetsDir, specTemplateName), params)
			require.NoError(t, err)
			checkSpec(t, text, patches, tt.name, tt.config, tt.sed)
			spec, err := specprep.ParseSpec(tt.name+".spec", text, specprep.SpecOptions{Arch: "x86_64", Dist: ".ph5"})
			require.NoError(t, err)
			if tt.cert == "" {
				require.NotContains(t, spec.Sources, 2, "no certificate for a flavor without the lab key")
				return
			}
			require.Equal(t, tt.cert, spec.Sources[2])
			var prep []string
			for _, l := range spec.Prep {
				prep = append(prep, l.Text)
			}
			require.Contains(t, strings.Join(prep, "\n"), "cp "+tt.cert+" certs/"+tt.cert, "%prep puts the certificate where the config names it")
		})
	}
}

func checkSpec(t *testing.T, text []byte, patches []Patch, name, config, sed string) {
	spec, err := specprep.ParseSpec(name+".spec", text, specprep.SpecOptions{Arch: "x86_64", Dist: ".ph5"})
	require.NoError(t, err)
	require.Equal(t, name, spec.Name)
	require.Equal(t, "6.1.192", spec.Version)
	require.Equal(t, "1.ph5", spec.Release)
	require.Equal(t, "linux-6.1.192.tar.xz", spec.Sources[0])
	require.Equal(t, config, spec.Sources[1])
	for _, p := range patches {
		require.Equal(t, p.File, spec.Patches[p.Number])
	}
	var prep []string
	for _, l := range spec.Prep {
		prep = append(prep, l.Text)
	}
	joined := strings.Join(prep, "\n")
	require.Contains(t, joined, "%autopatch -p1 -m0 -M49")
	require.Contains(t, joined, "%autopatch -p1 -m100 -M154")
	require.Less(t, strings.Index(joined, "-m0 "), strings.Index(joined, "-m100 "), "ranges in Photon's order")
	require.Contains(t, string(text), "%define sha512 linux="+strings.Repeat("ab", 64))
	require.Contains(t, joined, sed)
}

func TestRenderSpecBadTemplate(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "linux.spec.in")
	require.NoError(t, os.WriteFile(tmpl, []byte("Version: {{.Nope}}\n"), 0o644))
	_, err := renderSpec(tmpl, specParams{Version: "6.1.1", Release: "1", Patches: []Patch{{Number: 0, File: "a.patch"}}})
	require.ErrorContains(t, err, tmpl)
	_, err = renderSpec(filepath.Join(dir, "missing.in"), specParams{Version: "6.1.1"})
	require.ErrorIs(t, err, fs.ErrNotExist)
}
