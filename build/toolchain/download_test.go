// SPDX-License-Identifier: Apache-2.0

package toolchain_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
)

func TestDownload(t *testing.T) {
	body := []byte("a kernel image package")
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	sum512 := sha512.Sum512(body)
	good512 := hex.EncodeToString(sum512[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pool/k.deb" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		entry   toolchain.Entry
		wantErr error
		errLike string
	}{
		{"matches the index", toolchain.Entry{URL: srv.URL + "/pool/k.deb", SHA256: good, Size: int64(len(body))}, nil, ""},
		{"other digest", toolchain.Entry{URL: srv.URL + "/pool/k.deb", SHA256: good[1:] + "0", Size: int64(len(body))}, toolchain.ErrChecksumMismatch, "SHA-256"},
		{"other size", toolchain.Entry{URL: srv.URL + "/pool/k.deb", SHA256: good, Size: int64(len(body)) + 1}, toolchain.ErrChecksumMismatch, "bytes"},
		{"missing", toolchain.Entry{URL: srv.URL + "/pool/gone.deb", SHA256: good, Size: int64(len(body))}, nil, "404"},
		// RPM repositories may list only a package's SHA-512.
		{"SHA-512 matches", toolchain.Entry{URL: srv.URL + "/pool/k.deb", SHA512: good512, Size: int64(len(body))}, nil, ""},
		{"other SHA-512", toolchain.Entry{URL: srv.URL + "/pool/k.deb", SHA512: good512[1:] + "0", Size: int64(len(body))}, toolchain.ErrChecksumMismatch, "SHA-512"},
		{"SHA-256 given as SHA-512", toolchain.Entry{Name: "k", URL: srv.URL + "/pool/k.deb", SHA512: good, Size: int64(len(body))}, nil, "k : bad SHA-512"},
		{"no digest", toolchain.Entry{Name: "k", URL: srv.URL + "/pool/k.deb", Size: int64(len(body))}, nil, "bad or missing SHA-256"},
		{"both digests", toolchain.Entry{Name: "k", URL: srv.URL + "/pool/k.deb", SHA256: good, SHA512: good512, Size: int64(len(body))}, nil, "both a SHA-256 and a SHA-512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "k.deb")
			err := toolchain.Download(context.Background(), srv.Client(), tc.entry, file)
			if tc.errLike != "" {
				require.ErrorContains(t, err, tc.errLike)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
				}
				require.NoFileExists(t, file, "a refused download leaves no file")
				entries, _ := os.ReadDir(filepath.Dir(file))
				require.Empty(t, entries, "nor a temporary one")
				return
			}
			require.NoError(t, err)
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			require.Equal(t, body, data)
		})
	}
}

func TestIndexPackage(t *testing.T) {
	const sum = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	text := `Package: linux-headers-amd64
Version: 5.10.237-1
Architecture: amd64
Depends: linux-headers-5.10.0-35-amd64 (= 5.10.237-1)
Filename: pool/main/l/linux-signed-amd64/linux-headers-amd64_5.10.237-1_amd64.deb
Size: 10
SHA256: ` + sum + `

Package: linux-headers-amd64
Version: 5.10.262-1
Architecture: amd64
Depends: linux-headers-5.10.0-46-amd64 (= 5.10.262-1)
Filename: pool/main/l/linux-signed-amd64/linux-headers-amd64_5.10.262-1_amd64.deb
Size: 11
SHA256: ` + sum + `
`
	idx, err := toolchain.ParseIndex([]byte(text), "http://deb.example.org/debian")
	require.NoError(t, err)
	for _, tc := range []struct {
		version, want, dep string
	}{
		{"", "5.10.262-1", "linux-headers-5.10.0-46-amd64"},
		{"5.10.237-1", "5.10.237-1", "linux-headers-5.10.0-35-amd64"},
		{"5.10.999-1", "", ""},
	} {
		p := idx.Package("linux-headers-amd64", tc.version)
		if tc.want == "" {
			require.Nil(t, p, "version %q", tc.version)
			continue
		}
		require.NotNil(t, p, "version %q", tc.version)
		require.Equal(t, tc.want, p.Version)
		require.Equal(t, tc.dep, p.Depends[0][0].Name)
		e := p.Entry()
		require.Equal(t, toolchain.Entry{Name: "linux-headers-amd64", Version: tc.want, Arch: "amd64", SHA256: sum, Size: p.Size,
			URL: "http://deb.example.org/debian/pool/main/l/linux-signed-amd64/linux-headers-amd64_" + tc.want + "_amd64.deb"}, e)
	}
	require.Nil(t, idx.Package("linux-headers-arm64", ""))
}
