// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/photon"
)

// cannedTransport answers every request in memory (no network at all).
type cannedTransport struct {
	mu     sync.Mutex
	answer func(req *http.Request) *http.Response
}

func (c *cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := c.answer(req)
	resp.Request = req
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	return resp, nil
}

func canned(status int, header http.Header, body []byte, contentLength int64) *http.Response {
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: contentLength}
}

var fuzzStatuses = []int{http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable,
	http.StatusNotFound, http.StatusServiceUnavailable, http.StatusForbidden, http.StatusFound}

// FuzzDownloadResume: whatever partial file an earlier run left and
// whatever the server answers to the resume (status, Content-Range,
// Content-Length, body), Download never returns a file that fails its
// checksum, never writes beyond the cap, and leaves no partial file.
func FuzzDownloadResume(f *testing.F) {
	file := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	f.Add(uint16(1000), true, true, uint8(1), "bytes 1000-4095/4096", int64(3096), file[1000:])
	f.Add(uint16(1000), true, true, uint8(1), "bytes 999-4095/4096", int64(3097), file[999:])
	f.Add(uint16(1000), true, false, uint8(0), "", int64(-1), file)
	f.Add(uint16(0), false, false, uint8(0), "", int64(-1), append(file, file...))
	f.Add(uint16(4096), true, true, uint8(2), "bytes */4096", int64(0), []byte{})
	f.Add(uint16(5000), true, true, uint8(0), "", int64(1<<40), file)
	f.Add(uint16(10), true, true, uint8(1), "bytes 10-", int64(-1), file[10:])
	f.Fuzz(func(t *testing.T, have uint16, withDigest, withSize bool, status uint8, contentRange string, contentLength int64, body []byte) {
		const limit = 16 << 10 // MaxDownloadSize when no size is declared
		if contentLength < -1 {
			contentLength = -1
		}
		cache := t.TempDir()
		c := &Cache{Dir: cache}
		req := DownloadRequest{File: "p.rpm", URLs: []string{"http://repo.invalid/p.rpm"}}
		sum := sha256.Sum256(file)
		if withDigest {
			req.SHA256 = hex.EncodeToString(sum[:])
		}
		if withSize {
			req.Size = int64(len(file))
		}
		// What a killed run left: a prefix of the file, or more than it.
		old := bytes.Repeat(file, 2)[:min(int(have), 2*len(file))]
		writeFile(t, c.partialPath(req.key()), old)

		code := fuzzStatuses[int(status)%len(fuzzStatuses)]
		h := http.Header{}
		if contentRange != "" {
			h.Set("Content-Range", contentRange)
		}
		if code == http.StatusFound {
			h.Set("Location", "file:///etc/passwd")
		}
		var mu sync.Mutex
		var most int64
		o := &DownloadOptions{Attempts: 2, Backoff: time.Microsecond, MaxBackoff: time.Microsecond, StallTimeout: time.Minute,
			MaxDownloadSize: limit,
			Client:          &http.Client{Transport: &cannedTransport{answer: func(*http.Request) *http.Response { return canned(code, h.Clone(), body, contentLength) }}},
			Progress:        klpkit.On(func(ev DownloadEvent) { mu.Lock(); most = max(most, ev.Bytes); mu.Unlock() }),
		}
		p, err := c.Download(context.Background(), req, o)
		ceiling := int64(limit)
		if withSize {
			ceiling = req.Size
		}
		if most > ceiling {
			t.Fatalf("wrote %d bytes, more than the cap of %d", most, ceiling)
		}
		if _, partials := cacheState(t, cache); len(partials) != 0 {
			t.Fatalf("partial files left: %v (err %v)", partials, err)
		}
		if err != nil {
			if objects, _ := cacheState(t, cache); len(objects) != 0 {
				t.Fatalf("failed (%v) but left %v", err, objects)
			}
			return
		}
		data, rerr := os.ReadFile(p)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if withDigest && !bytes.Equal(data, file) {
			t.Fatalf("returned %d bytes that are not the file", len(data))
		}
		if int64(len(data)) > ceiling {
			t.Fatalf("returned %d bytes, more than the cap of %d", len(data), ceiling)
		}
		if !strings.HasPrefix(p, filepath.Join(cache, "sha256")+string(filepath.Separator)) {
			t.Fatalf("returned %s outside the cache's objects", p)
		}
	})
}

// FuzzLocate: package lookup from whatever repomd.xml and primary list a
// server sends. A package is found only through a primary list that
// matches repomd.xml's checksum, and every URL stays inside the repository.
func FuzzLocate(f *testing.F) {
	k := photon.MustParseKernel("6.1.138-2.ph5")
	primary := []byte(`<?xml version="1.0"?><metadata packages="1"><package type="rpm"><name>linux</name><arch>src</arch>` +
		`<version epoch="0" ver="6.1.138" rel="2.ph5"/><checksum type="sha256">` + strings.Repeat("ab", 32) +
		`</checksum><size package="10"/><location href="` + k.SourceRPM() + `"/></package></metadata>`)
	repomd := func(ctype, sum, href string) string {
		return `<repomd><data type="primary"><checksum type="` + ctype + `">` + sum + `</checksum><location href="` + href + `"/></data></repomd>`
	}
	f.Add(repomd("sha256", sha256Hex(primary), "repodata/p.xml"), primary)
	f.Add(repomd("sha512", sha512Hex(primary), "repodata/p.xml"), primary)
	f.Add(repomd("sha1", sha1Hex(primary), "repodata/p.xml"), primary)
	f.Add(repomd("sha256", sha256Hex(primary), "../p.xml"), primary)
	f.Add(repomd("sha256", sha256Hex(primary), "repodata/p.xml.gz"), primary)
	f.Fuzz(func(t *testing.T, md string, list []byte) {
		const repoURL = "http://repo.invalid/photon/5.0/photon_srpms_5.0_x86_64"
		tr := &cannedTransport{answer: func(req *http.Request) *http.Response {
			if strings.HasSuffix(req.URL.Path, "/repodata/repomd.xml") {
				return canned(http.StatusOK, nil, []byte(md), int64(len(md)))
			}
			return canned(http.StatusOK, nil, list, int64(len(list)))
		}}
		r := &Repo{BaseURLs: []string{"http://repo.invalid/photon"}, CacheDir: t.TempDir(),
			Download: &DownloadOptions{Attempts: 1, MaxMetadataSize: 1 << 20, Client: &http.Client{Transport: tr}}}
		req, err := r.Locate(context.Background(), k, SourcePackage)
		if left, _ := filepath.Glob(filepath.Join(r.CacheDir, "partial", "*")); len(left) != 0 {
			t.Fatalf("left %v behind", left)
		}
		if err != nil {
			return
		}
		for _, u := range req.URLs {
			rel, ok := strings.CutPrefix(u, repoURL+"/")
			if !ok || !isCleanRelative(rel) {
				t.Fatalf("URL %q is outside the repository", u)
			}
		}
		if !req.digestKnown() {
			return
		}
		index, err := ParseRepoMD(strings.NewReader(md))
		if err != nil {
			t.Fatalf("found %+v through repomd.xml that does not parse: %v", req, err)
		}
		entry, err := index.Primary()
		if err != nil {
			t.Fatalf("found %+v without a primary entry: %v", req, err)
		}
		if err := verifyMetadata(entry, bytes.NewReader(list)); err != nil {
			t.Fatalf("found %+v through an unverified primary list: %v", req, err)
		}
		if _, err := parseSHA256(req.SHA256); req.SHA256 != "" && (err != nil || req.SHA256 != strings.ToLower(req.SHA256)) {
			t.Fatalf("bad sha256 %q", req.SHA256)
		}
		if _, err := parseSHA512(req.SHA512); req.SHA512 != "" && err != nil {
			t.Fatalf("bad sha512 %q", req.SHA512)
		}
		if req.Size < 0 {
			t.Fatalf("negative size %d", req.Size)
		}
	})
}
