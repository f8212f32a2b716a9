// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/stretchr/testify/require"
)

const sourcesFixture = `Package: other
Version: 1.0-1
Directory: pool/main/o/other
Checksums-Sha256:
 %[1]s 9 other_1.0.orig.tar.gz

Package: kpatch
Binary: kpatch, kpatch-dkms
Version: 0.9.10-4
Directory: pool/main/k/kpatch
Checksums-Sha256:
 %[2]s 1 kpatch_0.9.10-4.dsc
 %[3]s %[4]d kpatch_0.9.10.orig.tar.gz
`

// sourceArchive serves a suite ("trixie") whose Sources.xz lists kpatch's
// tarball, signed by key.
func sourceArchive(t *testing.T, key *openpgp.Entity, tarball []byte, sources string) *fakeArchive {
	a := &fakeArchive{files: map[string][]byte{}, hits: map[string]int{}}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	xz := compress(t, ".xz", []byte(sources))
	a.files["/dists/trixie/main/source/Sources.xz"] = xz
	a.files["/pool/main/k/kpatch/kpatch_0.9.10.orig.tar.gz"] = tarball
	rel := fmt.Sprintf("Suite: stable\nCodename: trixie\nDate: Sat, 09 Aug 2025 09:16:30 UTC\nSHA256:\n %s %d main/source/Sources.xz\n", sha(xz), len(xz))
	a.files["/dists/trixie/InRelease"] = clearsigned(t, key, rel)
	return a
}

func TestSourceFile(t *testing.T) {
	key := newKey(t, "archive")
	tarball := []byte("kpatch upstream tarball")
	zeros := strings.Repeat("0", 64)
	a := sourceArchive(t, key, tarball, fmt.Sprintf(sourcesFixture, zeros, zeros, sha(tarball), len(tarball)))
	d := &Debian{Suites: []Suite{{URL: a.srv.URL, Name: "trixie"}}, Keyring: openpgp.EntityList{key}, Client: a.srv.Client()}
	ctx := context.Background()

	e, err := d.SourceFile(ctx, "kpatch", "kpatch_0.9.10.orig.tar.gz")
	require.NoError(t, err)
	require.Equal(t, Entry{Name: "kpatch", Version: "0.9.10-4", Arch: "source", SHA256: sha(tarball), Size: int64(len(tarball)),
		URL: a.srv.URL + "/pool/main/k/kpatch/kpatch_0.9.10.orig.tar.gz"}, e)
	file := filepath.Join(t.TempDir(), "kpatch.tar.gz")
	require.NoError(t, Download(ctx, a.srv.Client(), e, file))
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, tarball, got)

	// Another package's file of that name, or a file it does not list.
	_, err = d.SourceFile(ctx, "other", "kpatch_0.9.10.orig.tar.gz")
	require.ErrorIs(t, err, ErrNoSourceFile)
	_, err = d.SourceFile(ctx, "kpatch", "kpatch_0.9.11.orig.tar.gz")
	require.ErrorIs(t, err, ErrNoSourceFile)
	require.ErrorContains(t, err, "searched trixie/main")

	// A tarball swapped on the mirror fails the signed checksum.
	a.set("/pool/main/k/kpatch/kpatch_0.9.10.orig.tar.gz", []byte("kpatch upstream tarbal!"))
	require.ErrorIs(t, Download(ctx, a.srv.Client(), e, file+".2"), ErrChecksumMismatch)

	// All of a package's files in one pass, none of another's.
	all, err := d.SourceFiles(ctx, "kpatch")
	require.NoError(t, err)
	require.Contains(t, all, "kpatch_0.9.10.orig.tar.gz")
	require.Equal(t, e, all["kpatch_0.9.10.orig.tar.gz"])
	other, err := d.SourceFiles(ctx, "other")
	require.NoError(t, err)
	require.NotContains(t, other, "kpatch_0.9.10.orig.tar.gz")
	none, err := d.SourceFiles(ctx, "missing")
	require.NoError(t, err)
	require.Empty(t, none)

	// An index signed by another key is not read.
	d.Keyring = openpgp.EntityList{newKey(t, "other")}
	_, err = d.SourceFile(ctx, "kpatch", "kpatch_0.9.10.orig.tar.gz")
	require.ErrorIs(t, err, ErrBadSignature)
	_, err = d.SourceFiles(ctx, "kpatch")
	require.ErrorIs(t, err, ErrBadSignature)
}

func TestSourceFilesRefuses(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for name, text := range map[string]string{
		"absolute directory": "Package: p\nVersion: 1\nDirectory: /etc\nChecksums-Sha256:\n " + sum + " 1 a\n",
		"directory up":       "Package: p\nVersion: 1\nDirectory: pool/../../x\nChecksums-Sha256:\n " + sum + " 1 a\n",
		"file with a slash":  "Package: p\nVersion: 1\nDirectory: pool\nChecksums-Sha256:\n " + sum + " 1 ../a\n",
		"bad sum":            "Package: p\nVersion: 1\nDirectory: pool\nChecksums-Sha256:\n abc 1 a\n",
		"bad size":           "Package: p\nVersion: 1\nDirectory: pool\nChecksums-Sha256:\n " + sum + " -1 a\n",
		"no version":         "Package: p\nDirectory: pool\nChecksums-Sha256:\n " + sum + " 1 a\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sourceFiles([]byte(text), "http://x", "p")
			require.Error(t, err)
			// Only the package asked for is read.
			files, err := sourceFiles([]byte(text), "http://x", "q")
			require.NoError(t, err)
			require.Empty(t, files)
		})
	}
}

func FuzzSourceFiles(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(sourcesFixture, strings.Repeat("ab", 32), strings.Repeat("cd", 32), strings.Repeat("ef", 32), 5)))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := sourceFiles(data, "http://x", "kpatch")
		if err != nil {
			return
		}
		for _, e := range files {
			rest, ok := strings.CutPrefix(e.URL, "http://x/")
			if !ok || strings.Contains("/"+rest+"/", "/../") || !isSHA256(e.SHA256) || e.Size < 0 {
				t.Fatalf("accepted %+v", e)
			}
		}
	})
}
