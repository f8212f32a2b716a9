// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// tarEntry is one member of a test package's data.tar.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
}

func dirEntry(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func symlink(name, to string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, linkname: to, mode: 0o777}
}
func hardlink(name, to string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeLink, linkname: to, mode: 0o644}
}

func dataTar(t testing.TB, entries []tarEntry) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: e.mode, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if e.typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return b.Bytes()
}

func compress(t testing.TB, ext string, data []byte) []byte {
	var b bytes.Buffer
	switch ext {
	case "":
		return data
	case ".gz":
		w := gzip.NewWriter(&b)
		_, err := w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case ".xz":
		w, err := xz.NewWriter(&b)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case ".zst":
		w, err := zstd.NewWriter(&b)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	default:
		t.Fatalf("compression %q", ext)
	}
	return b.Bytes()
}

// arMember is one member of an ar archive.
type arMember struct {
	name string
	data []byte
}

func arArchive(members ...arMember) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// makeDeb builds a .deb whose data member is data.tar<ext>.
func makeDeb(t testing.TB, ext string, entries ...tarEntry) []byte {
	return arArchive(
		arMember{"debian-binary", []byte("2.0\n")},
		arMember{"control.tar.gz", compress(t, ".gz", dataTar(t, []tarEntry{file("./control", "Package: x\n"), file("./postinst", "#!/bin/sh\nrm -rf /\n")}))},
		arMember{"data.tar" + ext, compress(t, ext, dataTar(t, entries))},
	)
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func newKey(t testing.TB, name string) *openpgp.Entity {
	e, err := openpgp.NewEntity(name, "", name+"@example.org", nil)
	require.NoError(t, err)
	return e
}

func clearsigned(t testing.TB, key *openpgp.Entity, text string) []byte {
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, key.PrivateKey, nil)
	require.NoError(t, err)
	_, err = w.Write([]byte(text))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// fakeArchive is an HTTP Debian archive of one suite (bullseye, main,
// amd64) with the packages given, signed by key.
type fakeArchive struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func (a *fakeArchive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	data, ok := a.files[r.URL.Path]
	a.hits[r.URL.Path]++
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

func (a *fakeArchive) set(path string, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files[path] = data
}

// fakeDeb is one package of a fakeArchive.
type fakeDeb struct {
	name, version, extra string // extra: more control fields ("Depends: a\n")
	deb                  []byte
}

func newFakeArchive(t testing.TB, key *openpgp.Entity, debs ...fakeDeb) *fakeArchive {
	a := &fakeArchive{files: map[string][]byte{}, hits: map[string]int{}}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	var idx bytes.Buffer
	for _, d := range debs {
		path := fmt.Sprintf("pool/main/%s_%s_amd64.deb", d.name, d.version)
		a.files["/"+path] = d.deb
		fmt.Fprintf(&idx, "Package: %s\nVersion: %s\nArchitecture: amd64\n%sFilename: %s\nSize: %d\nSHA256: %s\nDescription: test\n multi-line\n\n",
			d.name, d.version, d.extra, path, len(d.deb), sha(d.deb))
	}
	gz := compress(t, ".gz", idx.Bytes())
	a.files["/dists/bullseye/main/binary-amd64/Packages.gz"] = gz
	rel := fmt.Sprintf("Origin: Debian\nSuite: oldoldstable\nCodename: bullseye\nDate: Sat, 09 Aug 2025 09:16:30 UTC\nSHA256:\n %s %d main/binary-amd64/Packages.gz\n %s %d main/binary-amd64/Packages\n",
		sha(gz), len(gz), sha(idx.Bytes()), idx.Len())
	a.files["/dists/bullseye/InRelease"] = clearsigned(t, key, rel)
	return a
}

func (a *fakeArchive) debian(key *openpgp.Entity) *Debian {
	return &Debian{Suites: []Suite{{URL: a.srv.URL, Name: "bullseye"}}, Keyring: openpgp.EntityList{key}, Client: a.srv.Client()}
}
