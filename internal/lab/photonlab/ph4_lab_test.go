// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// TestPH4LabBuiltWithGCC10 checks the Photon 4.0 lab (make lab-photon-ph4)
// without a VM: its kernel is a livepatchable 5.10 .ph4 kernel whose every
// compiled part is gcc-10's, the 5.10 lab kernel's compiler (vmlinux's
// .comment, the config's CONFIG_CC_VERSION_TEXT), and its repository gives
// back, through kernelsrc over HTTP as auto_livepatch fetches Photon's,
// exactly the tree, config and vmlinux it was built from. The compiler
// check against the kernel is skipped here: on this gcc-12 host it needs
// the Photon 4.0 toolchain root, which the ph4 end-to-end test provisions.
func TestPH4LabBuiltWithGCC10(t *testing.T) {
	deb := vmtest.RequireLabGeneration(t, lab.Bullseye510)
	pl := labtest.RequirePhotonGeneration(t, lab.DirFromEnv(os.Getenv), photonlab.PH4)
	k, err := pl.Kernel()
	require.NoError(t, err)
	require.Equal(t, photon.Release(4), k.Release())
	require.Equal(t, photon.Generic, k.Flavor)
	require.NoError(t, k.Livepatchable())
	require.True(t, strings.HasPrefix(pl.KernelRelease, strings.SplitN(deb.Version, "-", 2)[0]+"-"), "%s is the 5.10 lab's upstream version (%s)", pl.KernelRelease, deb.Version)

	want, err := lab.ConfigCompiler(deb.Config)
	require.NoError(t, err)
	got, err := lab.ConfigCompiler(pl.Config)
	require.NoError(t, err)
	require.Equal(t, want, got, "CONFIG_CC_VERSION_TEXT: the 5.10 lab kernel's compiler")
	_, ident, ok := strings.Cut(want, " ")
	require.True(t, ok, want)
	require.NoError(t, lab.CheckBuiltBy(pl.Vmlinux, ident), "every part of vmlinux is gcc-10's")
	t.Logf("%s built by %s", pl.KernelRelease, want)
	require.Equal(t, deb.ToolchainRoot, pl.ToolchainRoot, "the manifest names the root kbuild ran in")
	require.Equal(t, deb.Compiler, pl.Compiler)

	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	t.Cleanup(srv.Close)
	repo := &kernelsrc.Repo{BaseURLs: []string{srv.URL}, CacheDir: t.TempDir()}
	src, err := repo.Prepare(t.Context(), k, &kernelsrc.PrepareOptions{Dir: t.TempDir(), SkipCompilerCheck: true})
	require.NoError(t, err)
	cert := filepath.Join("certs", photonlab.TrustedCertSource)
	requireSameFile(t, pl.SigningCert, filepath.Join(src.Tree, cert))
	requireSameTree(t, pl.Tree, src.Tree, ".config", cert)
	requireSameFile(t, pl.Config, src.Config)
	requireSameFile(t, pl.Vmlinux, src.Vmlinux)
}
