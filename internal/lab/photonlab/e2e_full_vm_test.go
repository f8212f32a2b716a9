// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// fullBuildPatch is the end-to-end test's livepatch built without a devel
// RPM: v1's change under its own name.
var fullBuildPatch = e2ePatch{"klp_photonlab_full", "v1-proc-version.patch", "photonlab-livepatch: v1", ""}

// fullBuildGuestDir holds its module in the guest; absent for a flavor
// that does not build it.
const fullBuildGuestDir = "/full"

// fullBuildSetup (host) builds fullBuildPatch as an administrator whose
// repositories have no devel RPM: auto_livepatch, as root, falls back to
// building the whole kernel from the source RPM (make vmlinux modules) as
// the unprivileged build user, for its Module.symvers. That is the path
// that needs the kernel's config to name its signing files inside the
// tree. Its own cache and work directory, so the devel RPM the other
// runs fetched is not found in a cache and the fully built tree is not
// theirs. The guest loads the module: its CRCs are the kernel's.
func fullBuildSetup(t *testing.T, pl *photonlab.Lab, root, autoLivepatch string) []vmtest.File {
	k, err := pl.Kernel()
	require.NoError(t, err)
	updates := "/" + kernelsrc.DevelPackage.RepoPath(k.Release())
	files := http.FileServer(http.Dir(pl.RepoDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, updates) {
			http.NotFound(w, r) // no updates repository, so no devel RPM (as BenchmarkColdPhotonBuild)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	out, cache := t.TempDir(), t.TempDir()
	p := fullBuildPatch
	start := time.Now()
	cmd := exec.CommandContext(t.Context(), autoLivepatch, "-k", pl.KernelRelease,
		"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "-o", out,
		"--mirror", srv.URL, "--cache", cache, "--work", openWorkDir(t),
		"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "auto_livepatch without a devel RPM:\n%s", log.String())
	require.Contains(t, log.String(), "no "+kernelsrc.DevelPackage.String()+" for "+pl.KernelRelease, "the repository hides the devel RPM: the full build runs")
	require.Contains(t, log.String(), "make vmlinux modules")
	t.Logf("auto_livepatch built %s with the full build in %s", p.Name, time.Since(start).Round(100*time.Millisecond))
	ko := filepath.Join(out, p.Name+".ko")
	_, err = os.Stat(ko)
	require.NoError(t, err)
	return []vmtest.File{{Guest: fullBuildGuestDir + "/" + p.Name + ".ko", Host: ko}}
}

// fullBuildGuest (in the VM, kpatch installed) loads and unloads the
// full-build module when the host built one.
func fullBuildGuest(t *testing.T) {
	ko := fullBuildGuestDir + "/" + fullBuildPatch.Name + ".ko"
	if _, err := os.Stat(ko); os.IsNotExist(err) {
		return // this flavor's run does not build it (one flavor pays the full build)
	}
	t.Log("kpatch load the module built without a devel RPM (the full build's Module.symvers)")
	kpatchOK(t, "load", ko)
	requireLive(t, fullBuildPatch)
	kpatchOK(t, "unload", fullBuildPatch.Name)
	requireGone(t, fullBuildPatch.Name)
	requireNotInFile(t, "/proc/version", fullBuildPatch.Version)
}
