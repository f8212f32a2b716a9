// SPDX-License-Identifier: Apache-2.0

package photontoolchain_test

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/rpmpkg"
)

// testKey makes an Ed25519 key pair: the rpmpkg signer and the armored
// public key.
func testKey(t *testing.T, name string) (rpmpkg.Signer, []byte) {
	return pgptest.Signer(t, pgptest.Options{Name: name}, rpmpkg.NewOpenPGPSigner)
}

// pkg is a package of a test repository.
type pkg struct {
	repo                   string // "release" or "updates"
	name, version, release string
	requires, provides     []string
	files                  map[string]string // path: body ("->x": a link to x)
}

var buildTime = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// writeRepos writes pkgs as signed RPMs into Photon 5.0's release and
// updates repositories below base, with their repodata.
func writeRepos(t *testing.T, base string, signer rpmpkg.Signer, pkgs []pkg) {
	t.Helper()
	for _, p := range pkgs {
		var files []rpmpkg.File
		for name, body := range p.files {
			f := rpmpkg.File{Name: name, Mode: 0o755, Body: []byte(body)}
			if target, ok := bytes.CutPrefix([]byte(body), []byte("->")); ok {
				f = rpmpkg.File{Name: name, Mode: fs.ModeSymlink | 0o777, LinkTarget: string(target)}
			}
			files = append(files, f)
		}
		spec := rpmpkg.Spec{Name: p.name, Version: p.version, Release: p.release, Arch: "x86_64", Summary: p.name,
			Description: p.name, License: "GPL", BuildTime: buildTime, Requires: p.requires, Provides: p.provides,
			Files: files, Signer: signer}
		dir := filepath.Join(base, "5.0", "photon_"+p.repo+"_5.0_x86_64", "x86_64")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, atomicfile.Copy(filepath.Join(dir, spec.FileName()), 0o644, func(w io.Writer) error { return rpmpkg.Write(w, spec) }))
	}
	for _, r := range []string{"release", "updates"} {
		dir := filepath.Join(base, "5.0", "photon_"+r+"_5.0_x86_64")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, photonlab.WriteRepodata(dir, buildTime))
	}
}

// serve serves dir over loopback HTTP and counts package downloads.
func serve(t *testing.T, dir string) (*httptest.Server, *atomic.Int64) {
	var rpms atomic.Int64
	fsrv := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filepath.Ext(r.URL.Path) == ".rpm" {
			rpms.Add(1)
		}
		fsrv.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &rpms
}
