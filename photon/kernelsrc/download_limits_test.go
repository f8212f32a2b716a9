// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/photon"
)

// memServer serves handlers by URL path on loopback and counts requests.
type memServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	hits     map[string]int
}

func newMemServer(t *testing.T) *memServer {
	s := &memServer{handlers: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.handlers[r.URL.Path]
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *memServer) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[path] = h
}

func (s *memServer) bytes(path string, data []byte) {
	s.handle(path, func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(data))
	})
}

func (s *memServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// flood sends prefix, then filler up to total bytes (or until the client
// goes away), announcing contentLength when it is not negative.
func flood(prefix []byte, total, contentLength int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentLength >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(contentLength, 10))
		}
		if _, err := w.Write(prefix); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for sent := int64(len(prefix)); sent < total; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// peak records the largest byte count progress events report.
type peak struct {
	mu sync.Mutex
	n  int64
}

func (p *peak) progress(ev DownloadEvent) {
	p.mu.Lock()
	p.n = max(p.n, ev.Bytes)
	p.mu.Unlock()
}

func (p *peak) get() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }
func sha1Hex(b []byte) string   { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func TestDownloadCapsBodyAtDeclaredSize(t *testing.T) {
	data := bytes.Repeat([]byte("rpm!"), 1000)
	for _, c := range []struct {
		name          string
		contentLength int64
	}{
		{"longer body without Content-Length", -1},
		{"Content-Length above the declared size", 200 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newMemServer(t)
			s.handle("/p.rpm", flood(data, 64<<20, c.contentLength))
			cache := t.TempDir()
			var pk peak
			o := fastDownload()
			o.Progress = klpkit.On(pk.progress)
			_, err := (&Cache{Dir: cache}).Download(context.Background(), DownloadRequest{
				File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}, SHA256: sha256Hex(data), Size: int64(len(data)),
			}, o)
			require.ErrorIs(t, err, ErrTooLarge)
			assert.Contains(t, err.Error(), "p.rpm")
			assert.Contains(t, err.Error(), "4000 bytes")
			assert.LessOrEqual(t, pk.get(), int64(len(data)), "never more than the declared size is written")
			assert.Equal(t, 1, s.count("/p.rpm"), "an oversized body is not retried")
			objects, partials := cacheState(t, cache)
			assert.Empty(t, objects)
			assert.Empty(t, partials)
		})
	}
}

func TestDownloadCapsUndeclaredSize(t *testing.T) {
	assert.Equal(t, int64(DefaultMaxDownloadSize), (*DownloadOptions)(nil).withDefaults().MaxDownloadSize)
	for _, c := range []struct {
		name          string
		contentLength int64
	}{{"endless body", -1}, {"Content-Length above the cap", 8 << 20}} {
		t.Run(c.name, func(t *testing.T) {
			s := newMemServer(t)
			s.handle("/p.rpm", flood(nil, 64<<20, c.contentLength))
			cache := t.TempDir()
			var pk peak
			o := fastDownload()
			o.Progress = klpkit.On(pk.progress)
			o.MaxDownloadSize = 1 << 20
			_, err := (&Cache{Dir: cache}).Download(context.Background(), DownloadRequest{File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}}, o)
			require.ErrorIs(t, err, ErrTooLarge)
			assert.Contains(t, err.Error(), "MaxDownloadSize")
			assert.LessOrEqual(t, pk.get(), int64(1<<20))
			assert.Equal(t, 1, s.count("/p.rpm"))
			objects, partials := cacheState(t, cache)
			assert.Empty(t, objects)
			assert.Empty(t, partials)
		})
	}
}

// TestDownloadResumesAfterAKill: a partial file left by a killed process
// (nothing could remove it) is still resumed with a Range request.
func TestDownloadResumesAfterAKill(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 5000)
	s := newMemServer(t)
	s.bytes("/p.rpm", data)
	c := &Cache{Dir: t.TempDir()}
	req := DownloadRequest{File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}, SHA256: sha256Hex(data), Size: int64(len(data))}
	partial := c.partialPath(partialKey(req.File, req.SHA256))
	writeFile(t, partial, data[:20000])
	var resumed atomic.Bool
	o := fastDownload()
	o.Progress = klpkit.On(func(ev DownloadEvent) { resumed.Store(resumed.Load() || ev.Resumed) })
	p, err := c.Download(context.Background(), req, o)
	require.NoError(t, err)
	assert.True(t, resumed.Load())
	got, _ := fileSHA256(p)
	assert.Equal(t, req.SHA256, got)
}

// testRepo serves one srpms repository for kernel 6.1.138-2.ph5 with
// hand-written metadata.
type testRepo struct {
	s    *memServer
	k    photon.Kernel
	dir  string // URL path of the repository directory
	rpm  []byte
	opts *DownloadOptions
}

func newTestRepo(t *testing.T) *testRepo {
	k := photon.MustParseKernel("6.1.138-2.ph5")
	r := &testRepo{s: newMemServer(t), k: k, dir: "/" + SourcePackage.RepoPath(k.Release()), rpm: bytes.Repeat([]byte("srpm"), 2500), opts: fastDownload()}
	r.s.bytes(r.dir+"/"+k.SourceRPM(), r.rpm)
	return r
}

func (r *testRepo) repo(cache string) *Repo {
	return &Repo{BaseURLs: []string{r.s.srv.URL}, CacheDir: cache, Download: r.opts}
}

// primary returns a primary list naming the source RPM with the given checksum.
func (r *testRepo) primary(ctype, csum string) []byte {
	check := ""
	if ctype != "-" {
		check = fmt.Sprintf(`<checksum type="%s" pkgid="YES">%s</checksum>`, ctype, csum)
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1">
<package type="rpm"><name>linux</name><arch>src</arch><version epoch="0" ver="6.1.138" rel="2.ph5"/>%s<size package="%d"/><location href="%s"/></package>
</metadata>`, check, len(r.rpm), r.k.SourceRPM()))
}

// publish serves primary (gzipped) and a repomd.xml that describes it with
// ctype and csum (computed from the compressed bytes when csum is "");
// size < 0 leaves <size> out.
func (r *testRepo) publish(t *testing.T, primary []byte, ctype, csum string, size int64) []byte {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write(primary)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	if csum == "" {
		switch ctype {
		case "sha512":
			csum = sha512Hex(gz.Bytes())
		case "sha1":
			csum = sha1Hex(gz.Bytes())
		default:
			csum = sha256Hex(gz.Bytes())
		}
	}
	check := ""
	if ctype != "-" {
		check = fmt.Sprintf(`<checksum type="%s">%s</checksum>`, ctype, csum)
	}
	sizeTag := ""
	if size >= 0 {
		if size == 0 {
			size = int64(gz.Len())
		}
		sizeTag = fmt.Sprintf("<size>%d</size>", size)
	}
	r.s.bytes(r.dir+"/repodata/repomd.xml", []byte(`<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo">`+
		`<data type="primary">`+check+`<location href="repodata/primary.xml.gz"/>`+sizeTag+`</data></repomd>`))
	r.s.bytes(r.dir+"/repodata/primary.xml.gz", gz.Bytes())
	return gz.Bytes()
}

func TestLocateCapsPrimaryAtDeclaredSize(t *testing.T) {
	r := newTestRepo(t)
	gz := r.publish(t, r.primary("sha256", sha256Hex(r.rpm)), "sha256", "", 0)
	// The server appends 64 MiB to the primary list repomd.xml sized.
	r.s.handle(r.dir+"/repodata/primary.xml.gz", flood(gz, 64<<20, -1))
	_, err := r.repo(t.TempDir()).Locate(context.Background(), r.k, SourcePackage)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "primary.xml.gz")
	assert.Contains(t, err.Error(), strconv.Itoa(len(gz))+" bytes")
	assert.Equal(t, 1, r.s.count(r.dir+"/repodata/primary.xml.gz"), "not retried")
}

func TestLocateCapsUndeclaredPrimary(t *testing.T) {
	r := newTestRepo(t)
	r.publish(t, r.primary("sha256", sha256Hex(r.rpm)), "sha256", "", -1)
	r.s.handle(r.dir+"/repodata/primary.xml.gz", flood(nil, 64<<20, -1))
	r.opts.MaxMetadataSize = 1 << 20
	_, err := r.repo(t.TempDir()).Locate(context.Background(), r.k, SourcePackage)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "MaxMetadataSize")
}

// TestLocateLimitsDecompression: a primary list that matches its checksum
// but inflates beyond the cap is refused, not parsed to the end.
func TestLocateLimitsDecompression(t *testing.T) {
	r := newTestRepo(t)
	// Repetitive filler packages compress to almost nothing.
	filler := strings.Repeat(`<package type="rpm"><name>f</name><location href="f.rpm"/></package>`, 80000)
	bomb := bytes.Replace(r.primary("sha256", sha256Hex(r.rpm)), []byte(`packages="1">`), []byte(`packages="1">`+filler), 1)
	r.publish(t, bomb, "sha256", "", 0)
	r.opts.MaxMetadataSize = 1 << 20
	_, err := r.repo(t.TempDir()).Locate(context.Background(), r.k, SourcePackage)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "decompresses to more than the limit of 1048576 bytes (DownloadOptions.MaxMetadataSize)")
}

func TestRepodataChecksumTypes(t *testing.T) {
	for _, c := range []struct {
		name        string
		ctype, csum string // of primary.xml.gz in repomd.xml
		wantErr     string // "" means success
	}{
		{"sha256", "sha256", "", ""},
		{"SHA256 in capitals", "SHA256", "", ""},
		{"sha512", "sha512", "", ""},
		{"sha512 mismatch", "sha512", strings.Repeat("ab", 64), "repomd.xml says"},
		{"sha256 mismatch", "sha256", strings.Repeat("ab", 32), "repomd.xml says"},
		{"sha1", "sha1", "", `checksum type "sha1" is not accepted (only sha256 and sha512)`},
		{"md5", "md5", "0123456789abcdef0123456789abcdef", `checksum type "md5" is not accepted`},
		{"unknown", "blake3", "00", `checksum type "blake3" is not accepted`},
		{"none", "-", "", "has no checksum"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRepo(t)
			r.publish(t, r.primary("sha256", sha256Hex(r.rpm)), c.ctype, c.csum, 0)
			req, err := r.repo(t.TempDir()).Locate(context.Background(), r.k, SourcePackage)
			if c.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, sha256Hex(r.rpm), req.SHA256)
				return
			}
			require.ErrorIs(t, err, ErrBadRepodata)
			assert.Contains(t, err.Error(), c.wantErr)
			assert.Contains(t, err.Error(), "primary.xml.gz")
		})
	}
}

func TestPackageChecksumTypes(t *testing.T) {
	for _, c := range []struct {
		name        string
		ctype, csum string
		wantErr     string
		mismatch    bool
	}{
		{"sha256", "sha256", "", "", false},
		{"sha512", "sha512", "", "", false},
		{"sha512 mismatch", "sha512", strings.Repeat("cd", 64), "", true},
		{"sha1", "sha1", "", `checksum type "sha1" is not accepted (only sha256 and sha512)`, false},
		{"md5", "md5", "0123456789abcdef0123456789abcdef", `checksum type "md5" is not accepted`, false},
		{"none", "-", "", "has no checksum", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRepo(t)
			csum := c.csum
			if csum == "" {
				csum = map[string]string{"sha256": sha256Hex(r.rpm), "sha512": sha512Hex(r.rpm), "sha1": sha1Hex(r.rpm)}[c.ctype]
			}
			r.publish(t, r.primary(c.ctype, csum), "sha256", "", 0)
			cache := t.TempDir()
			p, err := r.repo(cache).Fetch(context.Background(), r.k, SourcePackage)
			switch {
			case c.mismatch:
				require.ErrorIs(t, err, ErrChecksumMismatch)
				assert.Contains(t, err.Error(), "sha512 "+sha512Hex(r.rpm))
				objects, partials := cacheState(t, cache)
				assert.Empty(t, objects)
				assert.Empty(t, partials)
			case c.wantErr != "":
				require.ErrorIs(t, err, ErrBadRepodata)
				assert.Contains(t, err.Error(), c.wantErr)
				assert.Contains(t, err.Error(), r.k.SourceRPM())
				assert.Zero(t, r.s.count(r.dir+"/"+r.k.SourceRPM()), "nothing is downloaded without an accepted checksum")
			default:
				require.NoError(t, err)
				got, _ := fileSHA256(p)
				assert.Equal(t, sha256Hex(r.rpm), got)
				// A second fetch finds it in the cache by its sha512 too.
				before := r.s.count(r.dir + "/" + r.k.SourceRPM())
				p2, err := r.repo(cache).Fetch(context.Background(), r.k, SourcePackage)
				require.NoError(t, err)
				assert.Equal(t, p, p2)
				assert.Equal(t, before, r.s.count(r.dir+"/"+r.k.SourceRPM()))
			}
		})
	}
}

// redirector answers path with a redirect to target.
func redirector(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
	}
}

func TestDownloadRedirects(t *testing.T) {
	data := []byte("package bytes")
	for _, c := range []struct {
		name    string
		hops    int    // redirects through /hop/N before /p.rpm
		target  string // non-empty: the first hop goes there instead
		refused string // "" means the download succeeds
	}{
		{"five hops", 5, "", ""},
		{"six hops", 6, "", "more than 5 redirects"},
		{"to file", 1, "file:///etc/passwd", `scheme "file"`},
		{"to ftp", 1, "ftp://127.0.0.1/p.rpm", `scheme "ftp"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newMemServer(t)
			s.bytes("/p.rpm", data)
			for i := 0; i < c.hops; i++ {
				next := s.srv.URL + fmt.Sprintf("/hop/%d", i+1)
				if i+1 == c.hops {
					next = s.srv.URL + "/p.rpm"
				}
				if i == 0 && c.target != "" {
					next = c.target
				}
				s.handle(fmt.Sprintf("/hop/%d", i), redirector(next))
			}
			cache := t.TempDir()
			_, err := (&Cache{Dir: cache}).Download(context.Background(), DownloadRequest{
				File: "p.rpm", URLs: []string{s.srv.URL + "/hop/0"}, SHA256: sha256Hex(data), Size: int64(len(data)),
			}, fastDownload())
			if c.refused == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrRedirectRefused)
			var re *RedirectError
			require.True(t, errors.As(err, &re))
			assert.Contains(t, err.Error(), c.refused)
			assert.Equal(t, 1, s.count("/hop/0"), "a refused redirect is not retried")
			objects, partials := cacheState(t, cache)
			assert.Empty(t, objects)
			assert.Empty(t, partials)
		})
	}
}

func TestMetadataRedirectRefused(t *testing.T) {
	r := newTestRepo(t)
	r.publish(t, r.primary("sha256", sha256Hex(r.rpm)), "sha256", "", 0)
	r.s.handle(r.dir+"/repodata/repomd.xml", redirector("file:///etc/passwd"))
	_, err := r.repo(t.TempDir()).Locate(context.Background(), r.k, SourcePackage)
	require.ErrorIs(t, err, ErrRedirectRefused)
	assert.Equal(t, 1, r.s.count(r.dir+"/repodata/repomd.xml"), "not retried")
}

// TestDownloadCallerClientKeepsRedirectPolicy: a caller's own client gets
// the same redirect rules.
func TestDownloadCallerClientKeepsRedirectPolicy(t *testing.T) {
	s := newMemServer(t)
	s.handle("/p.rpm", redirector("file:///etc/passwd"))
	o := fastDownload()
	o.Client = &http.Client{Timeout: time.Minute}
	_, err := (&Cache{Dir: t.TempDir()}).Download(context.Background(), DownloadRequest{File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}}, o)
	require.ErrorIs(t, err, ErrRedirectRefused)
	assert.Nil(t, o.Client.CheckRedirect, "the caller's client is not modified")
}

func TestParsePrimaryBoundsTokens(t *testing.T) {
	huge := `<metadata><package><name>` + strings.Repeat("n", 2<<20) + `</name><location href="x.rpm"/></package></metadata>`
	_, err := ParsePrimary(strings.NewReader(huge), nil)
	require.ErrorIs(t, err, ErrBadRepodata)
	assert.Contains(t, err.Error(), "longer than")

	deep := `<metadata><package>` + strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + `</package></metadata>`
	_, err = ParsePrimary(strings.NewReader(deep), nil)
	require.ErrorIs(t, err, ErrBadRepodata)
	assert.Contains(t, err.Error(), "nested deeper than")
}
