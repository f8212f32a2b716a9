// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/photon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

// requireRpmbuild skips without rpmbuild, except in CI where it must exist.
func requireRpmbuild(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("rpmbuild")
	if err != nil {
		needtest.Missing(t, "needs rpmbuild (Debian package rpm)")
	}
	return p
}

// rpmbuildTopdir lays out SOURCES and SPECS for kernel k like Photon's
// build does and returns the topdir and the spec path.
func rpmbuildTopdir(t *testing.T, k photon.Kernel) (string, string) {
	t.Helper()
	top := t.TempDir()
	sources := filepath.Join(top, "SOURCES")
	writeFile(t, filepath.Join(sources, "linux-"+k.Version.String()+".tar.xz"), kernelTarball(t, k.Version.String()))
	writeFile(t, filepath.Join(sources, "i40e-"+i40eVersion+".tar.gz"), dirTarball(t, "i40e", "i40e-"+i40eVersion, false))
	writeFile(t, filepath.Join(sources, jentDir+".tar.gz"), dirTarball(t, "jitterentropy", jentDir, false))
	for _, dir := range []string{"configs", "patches", "sources"} {
		entries, err := os.ReadDir(filepath.Join(fixtureDir, dir))
		require.NoError(t, err)
		for _, e := range entries {
			writeFile(t, filepath.Join(sources, e.Name()), readFixture(t, dir+"/"+e.Name()))
		}
	}
	spec := filepath.Join(top, "SPECS", k.Package()+".spec")
	writeFile(t, spec, readFixture(t, path.Join("specs", k.Release().String(), k.Package()+".spec")))
	return top, spec
}

func rpmbuildCmd(ctx context.Context, rpmbuild, top string, k photon.Kernel, args ...string) *exec.Cmd {
	base := []string{"--nodeps", "--target", "x86_64", "--define", "_topdir " + top, "--define", "dist " + k.Release().DistTag(), "--define", "_buildshell /bin/bash", // Photon's sh is bash (pushd)

		"--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm"}
	if strings.Contains(string(k.Variant), "kat") {
		base = append(base, "--define", "kat_build 1")
	}
	return exec.CommandContext(ctx, rpmbuild, append(base, args...)...)
}

// TestPrepareMatchesRpmbuild is the reference check: for every fixture
// kernel, rpmbuild -bp on the same spec and sources must give the same
// tree as Prepare (the .config aside, which Prepare always sets itself),
// and Prepare must accept the source RPM rpmbuild -bs writes.
func TestPrepareMatchesRpmbuild(t *testing.T) {
	rpmbuild := requireRpmbuild(t)
	requirePatch(t)
	for _, s := range fixtureKernels() {
		t.Run(s, func(t *testing.T) {
			k := photon.MustParseKernel(s)
			top, spec := rpmbuildTopdir(t, k)
			out, err := rpmbuildCmd(context.Background(), rpmbuild, top, k, "-bp", spec).CombinedOutput()
			require.NoError(t, err, "rpmbuild -bp: %s", out)
			refTree := filepath.Join(top, "BUILD", "linux-"+k.Version.String())

			out, err = rpmbuildCmd(context.Background(), rpmbuild, top, k, "-bs", spec).CombinedOutput()
			require.NoError(t, err, "rpmbuild -bs: %s", out)
			srpm := filepath.Join(top, "SRPMS", k.SourceRPM())
			require.FileExists(t, srpm)

			src, err := Prepare(context.Background(), k, srpm, "", &PrepareOptions{Dir: t.TempDir()})
			require.NoError(t, err)
			want, got := readTree(t, refTree), readTree(t, src.Tree)
			delete(want, ".config")
			delete(want, ".config.old") // left by the fixture's check include running "make olddefconfig"
			delete(got, ".config")
			assert.Equal(t, want, got)
			if i40e := filepath.Join(top, "BUILD", "i40e-"+i40eVersion); dirExists(i40e) {
				assert.Equal(t, readTree(t, i40e), readTree(t, filepath.Join(filepath.Dir(src.Tree), "i40e-"+i40eVersion)))
			}
		})
	}
}
