// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// toolchainRepo is a lab repository served with a Photon release
// repository of toolchain RPMs beside it, as the toolchain end-to-end
// tests (5.0 and 4.0) serve them to auto_livepatch.
type toolchainRepo struct {
	srv     *httptest.Server
	release string // URL path prefix of the release repository, "/5.0/photon_release_5.0_x86_64/"
	rpms    int    // how many toolchain RPMs it holds
}

// serveToolchainRepo packages root (a Debian toolchain root) as the
// Photon release's toolchain RPMs (photonlab.ToolchainRPMs, signed by a
// test key) and serves them as rel's release repository, with labRepo
// for every other path. The server closes when the test ends.
func serveToolchainRepo(t *testing.T, ctx context.Context, labRepo, root string, rel photon.Release, o photonlab.ToolchainOptions) toolchainRepo {
	t.Helper()
	start := time.Now()
	base := t.TempDir()
	release := photontoolchain.DefaultRepos(rel)[0]
	if o.BuildTime.IsZero() {
		o.BuildTime = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	}
	o.Signer, _ = pgptest.Signer(t, pgptest.Options{Name: "Photon lab toolchain"}, rpmpkg.NewOpenPGPSigner)
	rpms, err := photonlab.ToolchainRPMs(ctx, root, filepath.Join(base, release, "x86_64"), o)
	require.NoError(t, err)
	require.NoError(t, photonlab.WriteRepodata(filepath.Join(base, release), o.BuildTime))
	t.Logf("%d Photon %s toolchain RPMs in %s", len(rpms), rel, time.Since(start).Round(time.Millisecond))
	prefix := "/" + release + "/"
	lab, tc := http.FileServer(http.Dir(labRepo)), http.FileServer(http.Dir(base))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			tc.ServeHTTP(w, r)
			return
		}
		lab.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return toolchainRepo{srv: srv, release: prefix, rpms: len(rpms)}
}

// requireOneRoot checks what auto_livepatch (run with XDG_CACHE_HOME=xdg,
// printing log) provisioned: one Photon toolchain root, of every RPM of
// the release repository and of those only, whose gcc is gccVersion's
// build, and the build ran in it. It returns the root's gcc entry.
func (r toolchainRepo) requireOneRoot(t *testing.T, xdg, log, gccVersion string) toolchain.Entry {
	t.Helper()
	lists, _ := filepath.Glob(filepath.Join(xdg, "klpkit/toolchain/photon/roots/unsigned/*", toolchain.ListFile))
	require.Len(t, lists, 1, "one Photon toolchain root:\n%s", log)
	text, err := os.ReadFile(lists[0])
	require.NoError(t, err)
	list, err := toolchain.ParseList(string(text))
	require.NoError(t, err)
	require.Len(t, list, r.rpms, "the root holds every toolchain RPM:\n%s", text)
	for _, e := range list {
		require.True(t, strings.HasPrefix(e.URL, r.srv.URL+r.release), "%s comes from the release repository %s: %s", e.Name, r.release, e.URL)
	}
	gcc, ok := list.Find("gcc")
	require.True(t, ok, "the root has gcc:\n%s", text)
	require.True(t, strings.HasPrefix(gcc.Version, gccVersion+"-"), "the root's gcc is the kernel's %s: %s", gccVersion, gcc.Version)
	require.Contains(t, log, "provisioning the kernel's toolchain", "the host's compiler differs: auto provisions")
	require.Contains(t, log, "building in toolchain root "+filepath.Dir(lists[0]))
	return gcc
}
