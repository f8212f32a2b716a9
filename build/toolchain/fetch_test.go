// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFetchRetries(t *testing.T) {
	body := []byte("package data")
	for _, tc := range []struct {
		name     string
		failures int // answers before the good one
		status   int
		hits     int32
		want     error
		errLike  string
	}{
		{"succeeds at once", 0, 0, 1, nil, ""},
		{"two 503s, then the file", 2, http.StatusServiceUnavailable, 3, nil, ""},
		{"a 429, then the file", 1, http.StatusTooManyRequests, 2, nil, ""},
		{"503 every time", 5, http.StatusServiceUnavailable, attempts, nil, "503 Service Unavailable"},
		{"404 is final", 5, http.StatusNotFound, 1, nil, "404 Not Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) <= int32(tc.failures) {
					w.WriteHeader(tc.status)
					return
				}
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			f := fetcher{client: srv.Client(), backoff: time.Millisecond}
			file := filepath.Join(t.TempDir(), "x.deb")
			err := f.getVerified(context.Background(), srv.URL+"/x.deb", file, sha(body), int64(len(body)))
			assert.Equal(t, tc.hits, hits.Load())
			if tc.errLike != "" {
				require.ErrorContains(t, err, tc.errLike)
				var status *HTTPStatusError
				require.ErrorAs(t, err, &status)
				assert.NoFileExists(t, file)
				return
			}
			require.NoError(t, err)
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, body, data)
		})
	}
}

func TestFetchChecksumIsFinal(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("other data!!"))
	}))
	defer srv.Close()
	f := fetcher{client: srv.Client(), backoff: time.Millisecond}
	dir := t.TempDir()
	err := f.getVerified(context.Background(), srv.URL+"/x.deb", filepath.Join(dir, "x.deb"), sha([]byte("package data")), 12)
	require.ErrorIs(t, err, ErrChecksumMismatch)
	assert.Equal(t, int32(1), hits.Load(), "a wrong file is not fetched again")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "no partial file left")

	// Too long is refused without reading it all.
	err = f.getVerified(context.Background(), srv.URL+"/x.deb", filepath.Join(dir, "x.deb"), sha([]byte("other")), 5)
	require.ErrorIs(t, err, ErrChecksumMismatch)
	assert.ErrorContains(t, err, "6 bytes") // size+1 read at most
}

func TestIndexByHash(t *testing.T) {
	key := newKey(t, "archive")
	a := newFakeArchive(t, key, fakeDeb{name: "hello", version: "1.0-1", deb: makeDeb(t, ".gz", file("./hello", "hi"))})
	// Acquire-By-Hash: the index is fetched by its digest.
	gz := a.files["/dists/bullseye/main/binary-amd64/Packages.gz"]
	inrel := string(a.files["/dists/bullseye/InRelease"])
	_, signed, _ := strings.Cut(inrel, "\n\n")
	text, _, _ := strings.Cut(signed, "-----BEGIN PGP SIGNATURE-----")
	a.set("/dists/bullseye/InRelease", clearsigned(t, key, "Acquire-By-Hash: yes\n"+strings.TrimSuffix(text, "\n")))
	byHash := "/dists/bullseye/main/binary-amd64/by-hash/SHA256/" + sha(gz)
	a.set(byHash, gz)
	d := &Debian{Suites: []Suite{{URL: a.srv.URL, Name: "bullseye"}}, Keyring: openpgp.EntityList{key}, Client: a.srv.Client()}
	l, err := d.Resolve(context.Background(), []string{"hello"})
	require.NoError(t, err)
	assert.Equal(t, []string{"hello=1.0-1"}, names(l))
	assert.Equal(t, 1, a.hits[byHash])
	assert.Equal(t, 0, a.hits["/dists/bullseye/main/binary-amd64/Packages.gz"])

	// A mirror without the by-hash copy: the index by name.
	a.mu.Lock()
	delete(a.files, byHash)
	a.mu.Unlock()
	_, err = d.Resolve(context.Background(), []string{"hello"})
	require.NoError(t, err)
	assert.Equal(t, 1, a.hits["/dists/bullseye/main/binary-amd64/Packages.gz"])
}
