// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fetchEnv struct {
	k      photon.Kernel
	root   string
	server *faultServer
	url    string
	cache  string
	srpm   string // URL path of the source RPM
}

func newFetchEnv(t *testing.T, o repoOptions) *fetchEnv {
	t.Helper()
	k := photon.MustParseKernel("5.10.118-3.ph4")
	root := buildRepo(t, []string{k.String()}, o)
	fs := newFaultServer(root)
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return &fetchEnv{k: k, root: root, server: fs, url: srv.URL, cache: t.TempDir(),
		srpm: "/" + SourcePackage.RepoPath(k.Release()) + "/" + k.SourceRPM()}
}

func (e *fetchEnv) repo(progress func(DownloadEvent)) *Repo {
	o := fastDownload()
	o.Progress = klpkit.On(progress)
	return &Repo{BaseURLs: []string{e.url}, CacheDir: e.cache, Download: o}
}

// cacheState lists complete objects and partial files in the cache.
func cacheState(t *testing.T, dir string) (objects, partials []string) {
	t.Helper()
	objects, _ = filepath.Glob(filepath.Join(dir, "sha256", "*", "*"))
	partials, _ = filepath.Glob(filepath.Join(dir, "partial", "*"))
	return objects, partials
}

func TestFetchVerifiesAgainstRepodata(t *testing.T) {
	e := newFetchEnv(t, repoOptions{})
	var mu sync.Mutex
	var last DownloadEvent
	p, err := e.repo(func(ev DownloadEvent) { mu.Lock(); last = ev; mu.Unlock() }).Fetch(context.Background(), e.k, SourcePackage)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(e.srpm)))
	require.NoError(t, err)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	sum, err := fileSHA256(p)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(e.cache, "sha256", sum, e.k.SourceRPM()), p)
	assert.True(t, last.Done)
	assert.Equal(t, int64(len(want)), last.Bytes)
	assert.Equal(t, int64(len(want)), last.Total)

	// Cached: no further request for the package itself.
	before := e.server.requests.Load()
	p2, err := e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
	require.NoError(t, err)
	assert.Equal(t, p, p2)
	assert.Equal(t, before+2, e.server.requests.Load(), "only repomd.xml and the primary list are read again")
}

func TestFetchNotFound(t *testing.T) {
	e := newFetchEnv(t, repoOptions{})
	missing := photon.MustParseKernel("5.10.118-4.ph4-rt")
	_, err := e.repo(nil).Fetch(context.Background(), missing, DebuginfoPackage)
	require.ErrorIs(t, err, ErrPackageNotFound)
	var nf *NotFoundError
	require.True(t, errors.As(err, &nf))
	assert.Equal(t, "linux-rt-debuginfo-5.10.118-4.ph4.x86_64.rpm", nf.File)
	assert.Equal(t, photon.Release(4), nf.Release)
	assert.Equal(t, []string{e.url + "/4.0/photon_debuginfo_4.0_x86_64/x86_64/linux-rt-debuginfo-5.10.118-4.ph4.x86_64.rpm"}, nf.URLs)
	assert.Contains(t, err.Error(), "debuginfo RPM linux-rt-debuginfo-5.10.118-4.ph4.x86_64.rpm of Photon 4.0 not found")

	// A 404 on a listed package is reported the same way.
	e.server.set(e.srpm, faultNotFound, 0)
	_, err = e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
	require.ErrorIs(t, err, ErrPackageNotFound)
	assert.Contains(t, err.Error(), e.url+e.srpm)
	objects, partials := cacheState(t, e.cache)
	assert.Empty(t, objects)
	assert.Empty(t, partials, "a 404 leaves no partial file with content")
}

func TestFetchFaultsThenRecovery(t *testing.T) {
	cases := []struct {
		name  string
		fault fault
		check func(t *testing.T, err error)
	}{
		{"checksum mismatch", faultCorrupt, func(t *testing.T, err error) {
			require.ErrorIs(t, err, ErrChecksumMismatch)
			var ce *ChecksumError
			require.True(t, errors.As(err, &ce))
			assert.NotEqual(t, ce.Want, ce.Got)
			assert.Contains(t, ce.URL, "linux-5.10.118-3.ph4.src.rpm")
		}},
		{"truncated", faultTruncate, func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "failed after 3 attempts")
		}},
		{"stalled", faultStall, func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "stalled")
		}},
		{"server error", faultError, func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "503")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFetchEnv(t, repoOptions{})
			e.server.set(e.srpm, c.fault, 0)
			_, err := e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
			require.Error(t, err)
			c.check(t, err)
			objects, partials := cacheState(t, e.cache)
			assert.Empty(t, objects, "nothing that looks complete after a failure")
			assert.Empty(t, partials, "a failed download leaves no partial file")

			e.server.clear()
			var resumed bool
			var mu sync.Mutex
			p, err := e.repo(func(ev DownloadEvent) { mu.Lock(); resumed = resumed || ev.Resumed; mu.Unlock() }).Fetch(context.Background(), e.k, SourcePackage)
			require.NoError(t, err, "a rerun succeeds once the fault is gone")
			want, _ := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(e.srpm)))
			got, _ := os.ReadFile(p)
			assert.Equal(t, want, got)
			assert.False(t, resumed, "the rerun starts afresh: nothing was kept")
			_, partials = cacheState(t, e.cache)
			assert.Empty(t, partials)
		})
	}
}

func TestFetchRetriesTransientFaults(t *testing.T) {
	for _, f := range []fault{faultTruncate, faultStall, faultError} {
		e := newFetchEnv(t, repoOptions{})
		e.server.set(e.srpm, f, 2)
		var retries int
		var mu sync.Mutex
		_, err := e.repo(func(ev DownloadEvent) {
			mu.Lock()
			if ev.Retry != nil {
				retries++
			}
			mu.Unlock()
		}).Fetch(context.Background(), e.k, SourcePackage)
		require.NoError(t, err, "fault %d", f)
		assert.Equal(t, 2, retries, "fault %d", f)
		if f != faultError {
			assert.Positive(t, e.server.ranges.Load(), "fault %d: later attempts resume with Range", f)
		}
	}
}

func TestFetchWithoutRepodata(t *testing.T) {
	e := newFetchEnv(t, repoOptions{noRepodata: true})
	p, err := e.repo(nil).Fetch(context.Background(), e.k, DebuginfoPackage)
	require.NoError(t, err)
	cached, sum, ok := (&Cache{Dir: e.cache}).LookupName(e.k.DebuginfoRPM())
	require.True(t, ok)
	assert.Equal(t, p, cached)
	got, _ := fileSHA256(p)
	assert.Equal(t, sum, got)
}

func TestFetchCorruptRPM(t *testing.T) {
	requirePatch(t)
	bad := newFetchEnv(t, repoOptions{corruptSRPM: true})
	work := t.TempDir()
	repo := bad.repo(nil)
	_, err := repo.Prepare(context.Background(), bad.k, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.ErrorIs(t, err, rpmpkg.ErrMalformed)
	assert.Contains(t, err.Error(), bad.k.SourceRPM())
	entries := outputs(work)
	assert.Empty(t, entries, "no tree from a corrupt RPM")

	good := newFetchEnv(t, repoOptions{})
	repo.BaseURLs = []string{good.url}
	src, err := repo.Prepare(context.Background(), bad.k, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.NoError(t, err, "a rerun succeeds once the repository is fixed")
	assert.FileExists(t, src.Config)
}

func TestRepoLocalFiles(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("6.1.138-1.ph5-rt")
	root := buildRepo(t, []string{k.String()}, repoOptions{})
	srpm := filepath.Join(root, filepath.FromSlash(SourcePackage.RepoPath(k.Release())), k.SourceRPM())
	debug := filepath.Join(root, filepath.FromSlash(DebuginfoPackage.RepoPath(k.Release())), "x86_64", k.DebuginfoRPM())

	// -s / -v: explicit files, no network (no BaseURLs would be reachable).
	r := &Repo{SourceRPMPath: srpm, DebuginfoRPMPath: debug, BaseURLs: []string{"http://127.0.0.1:1"}}
	src, err := r.Prepare(context.Background(), k, &PrepareOptions{Dir: t.TempDir(), SkipCompilerCheck: true})
	require.NoError(t, err)
	assert.FileExists(t, src.Vmlinux)

	// A flat directory.
	flat := t.TempDir()
	require.NoError(t, os.Link(srpm, filepath.Join(flat, k.SourceRPM())))
	p, err := (&Repo{Dir: flat}).Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(flat, k.SourceRPM()), p)
	_, err = (&Repo{Dir: flat}).Fetch(context.Background(), k, DebuginfoPackage)
	require.ErrorIs(t, err, ErrPackageNotFound)

	// A missing explicit file names the path.
	_, err = (&Repo{SourceRPMPath: filepath.Join(flat, "nope.src.rpm")}).Fetch(context.Background(), k, SourcePackage)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.src.rpm")
}

func TestLocateDefaultHosts(t *testing.T) {
	k := photon.MustParseKernel("5.10.118-rt67-3.ph4-rt")
	r := &Repo{NoMetadata: true}
	req, err := r.Locate(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"https://packages.broadcom.com/photon/4.0/photon_srpms_4.0_x86_64/linux-rt-5.10.118-3.ph4.src.rpm",
		"https://packages.vmware.com/photon/4.0/photon_srpms_4.0_x86_64/linux-rt-5.10.118-3.ph4.src.rpm",
	}, req.URLs)
	req, err = (&Repo{NoMetadata: true, BaseURLs: []string{"https://mirror.example/photon/"}}).Locate(context.Background(), photon.MustParseKernel("6.1.138-2.ph5"), DebuginfoPackage)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://mirror.example/photon/5.0/photon_debuginfo_5.0_x86_64/x86_64/linux-debuginfo-6.1.138-2.ph5.x86_64.rpm"}, req.URLs)
	assert.Equal(t, "debuginfo RPM", req.What)
}

func TestFetchNeedsCacheDir(t *testing.T) {
	_, err := (&Repo{NoMetadata: true}).Fetch(context.Background(), photon.MustParseKernel("6.1.138-2.ph5"), SourcePackage)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "CacheDir"))
}

func TestFetchWithoutRepodataRejectsCorruptRPM(t *testing.T) {
	e := newFetchEnv(t, repoOptions{noRepodata: true})
	e.server.set(e.srpm, faultCorrupt, 0)
	_, err := e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
	require.Error(t, err, "without a checksum the RPM's own digests must hold")
	assert.Contains(t, err.Error(), e.k.SourceRPM())
	objects, partials := cacheState(t, e.cache)
	assert.Empty(t, objects)
	assert.Empty(t, partials)
	_, _, ok := (&Cache{Dir: e.cache}).LookupName(e.k.SourceRPM())
	assert.False(t, ok)

	e.server.clear()
	_, err = e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
	require.NoError(t, err)
}

func TestFetchCanceled(t *testing.T) {
	e := newFetchEnv(t, repoOptions{})
	e.server.set(e.srpm, faultStall, 0)
	ctx, cancel := context.WithCancel(context.Background())
	repo := e.repo(func(ev DownloadEvent) {
		if ev.Bytes > 0 {
			cancel() // the user gives up mid-body
		}
	})
	repo.Download.StallTimeout = time.Minute
	_, err := repo.Fetch(ctx, e.k, SourcePackage)
	require.ErrorIs(t, err, context.Canceled)
	objects, partials := cacheState(t, e.cache)
	assert.Empty(t, objects)
	assert.Empty(t, partials, "a cancelled download leaves no partial file")

	e.server.clear()
	_, err = e.repo(nil).Fetch(context.Background(), e.k, SourcePackage)
	require.NoError(t, err)
}

func TestDownloadConcurrentRunsShareOneTransfer(t *testing.T) {
	e := newFetchEnv(t, repoOptions{})
	req, err := e.repo(nil).Locate(context.Background(), e.k, DebuginfoPackage)
	require.NoError(t, err)
	before := e.server.requests.Load()
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = (&Cache{Dir: e.cache}).Download(context.Background(), req, fastDownload())
		}()
	}
	wg.Wait()
	for i := range paths {
		require.NoError(t, errs[i])
		assert.Equal(t, paths[0], paths[i])
	}
	assert.Equal(t, before+1, e.server.requests.Load(), "one transfer; the others wait and reuse it")
}

// TestFetchFallsBackToTheOtherHost: the first host is down (its metadata
// answers 503 every time) or serves corrupt metadata; the package comes from
// the second host, verified against that host's repodata.
func TestFetchFallsBackToTheOtherHost(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault fault
	}{{"host down", faultError}, {"corrupt repodata", faultCorrupt}} {
		t.Run(c.name, func(t *testing.T) {
			bad, good := newFetchEnv(t, repoOptions{}), newFetchEnv(t, repoOptions{})
			md := "/" + SourcePackage.RepoPath(bad.k.Release()) + "/repodata/repomd.xml"
			bad.server.set(md, c.fault, 0)
			r := good.repo(nil)
			r.BaseURLs = []string{bad.url, good.url}
			req, err := r.Locate(context.Background(), good.k, SourcePackage)
			require.NoError(t, err)
			assert.NotEmpty(t, req.SHA256, "the checksum comes from the good host's repodata")
			require.NotEmpty(t, req.URLs)
			assert.True(t, strings.HasPrefix(req.URLs[0], good.url), "first URL %s is the good host's", req.URLs[0])
			for _, u := range req.URLs {
				assert.False(t, strings.HasPrefix(u, bad.url), "the failing host %s is skipped", u)
			}
			p, err := r.Fetch(context.Background(), good.k, SourcePackage)
			require.NoError(t, err)
			assert.FileExists(t, p)
		})
	}
}

// TestLocateEveryHostFails names every host's problem.
func TestLocateEveryHostFails(t *testing.T) {
	a, b := newFetchEnv(t, repoOptions{}), newFetchEnv(t, repoOptions{})
	md := "/" + SourcePackage.RepoPath(a.k.Release()) + "/repodata/repomd.xml"
	a.server.set(md, faultError, 0)
	b.server.set(md, faultError, 0)
	r := a.repo(nil)
	r.BaseURLs = []string{a.url, b.url}
	_, err := r.Locate(context.Background(), a.k, SourcePackage)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no repository could be read")
	assert.Contains(t, err.Error(), a.url)
	assert.Contains(t, err.Error(), b.url)
}
