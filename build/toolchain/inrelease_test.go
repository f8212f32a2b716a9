// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const releaseFixture = `Origin: Debian
Suite: oldoldstable
Codename: bullseye
Date: Sat, 09 Aug 2025 09:16:30 UTC
SHA256:
 1c3405444297ead864711c18e64bce4810db63b48340a2f9d81182d9f235ad71  8065948 main/binary-amd64/Packages.xz
 d41d8cd98f00b204e9800998ecf8427ed41d8cd98f00b204e9800998ecf8427e        0 contrib/Contents-udeb-all
`

// fixtureNow is after the test keys were made (they sign "now").
var fixtureNow = time.Now().Add(time.Minute)

func TestVerifyInRelease(t *testing.T) {
	archive, other := newKey(t, "archive"), newKey(t, "other")
	trusted := openpgp.EntityList{archive}
	signed := clearsigned(t, archive, releaseFixture)

	rel, err := VerifyInRelease(signed, "bullseye", trusted, fixtureNow)
	require.NoError(t, err)
	assert.Equal(t, "bullseye", rel.Codename)
	assert.Equal(t, IndexFile{SHA256: "1c3405444297ead864711c18e64bce4810db63b48340a2f9d81182d9f235ad71", Size: 8065948}, rel.Files["main/binary-amd64/Packages.xz"])
	assert.Len(t, rel.Files, 2)
	_, err = VerifyInRelease(signed, "oldoldstable", trusted, fixtureNow) // the suite name works too
	require.NoError(t, err)

	// Text outside the signed block is not read.
	withJunk := append([]byte("SHA256:\n "+strings.Repeat("0", 64)+" 1 main/evil\n"), signed...)
	rel, err = VerifyInRelease(withJunk, "bullseye", trusted, fixtureNow)
	require.NoError(t, err)
	assert.NotContains(t, rel.Files, "main/evil")

	validUntil := clearsigned(t, archive, strings.Replace(releaseFixture, "SHA256:", "Valid-Until: Sat, 16 Aug 2025 09:16:30 UTC\nSHA256:", 1))
	tampered := bytes.Replace(signed, []byte("8065948"), []byte("8065949"), 1)
	require.NotEqual(t, signed, tampered)

	for _, tc := range []struct {
		name    string
		data    []byte
		suite   string
		ring    openpgp.EntityList
		want    error
		errLike string
	}{
		{"signed by an untrusted key", clearsigned(t, other, releaseFixture), "bullseye", trusted, ErrBadSignature, ""},
		{"text changed after signing", tampered, "bullseye", trusted, ErrBadSignature, ""},
		{"not signed", []byte(releaseFixture), "bullseye", trusted, ErrBadSignature, "no clearsigned message"},
		{"another suite's metadata", signed, "bookworm", trusted, ErrStaleMetadata, "asked for suite bookworm"},
		{"past Valid-Until", validUntil, "bullseye", trusted, ErrStaleMetadata, "expired"},
		{"no SHA256 list", clearsigned(t, archive, "Codename: bullseye\nDate: Sat, 09 Aug 2025 09:16:30 UTC\n"), "bullseye", trusted, nil, "no SHA256 file list"},
		{"bad SHA256 line", clearsigned(t, archive, strings.Replace(releaseFixture, " 1c34", " zz34", 1)), "bullseye", trusted, nil, "malformed line"},
		{"bad date", clearsigned(t, archive, strings.Replace(releaseFixture, "Sat, 09 Aug", "09/08", 1)), "bullseye", trusted, nil, "not an RFC 2822 date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyInRelease(tc.data, tc.suite, tc.ring, fixtureNow)
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			if tc.errLike != "" {
				assert.ErrorContains(t, err, tc.errLike)
			}
		})
	}
}

func TestReadKeyring(t *testing.T) {
	_, err := ReadKeyring(nil)
	require.ErrorIs(t, err, ErrBadSignature)
	_, err = ReadKeyring([]byte("not a key"))
	require.ErrorIs(t, err, ErrBadSignature)

	key := newKey(t, "archive")
	var bin bytes.Buffer
	require.NoError(t, key.Serialize(&bin))
	ring, err := ReadKeyring(bin.Bytes())
	require.NoError(t, err)
	assert.Len(t, ring, 1)
}

func TestIndexVerifiesPackages(t *testing.T) {
	key := newKey(t, "archive")
	a := newFakeArchive(t, key, fakeDeb{name: "hello", version: "1.0-1", deb: makeDeb(t, ".xz", file("./usr/bin/hello", "hi"))})
	d := a.debian(key)
	d.IndexCache = t.TempDir()
	ctx := context.Background()

	l, err := d.Resolve(ctx, []string{"hello"})
	require.NoError(t, err)
	require.Equal(t, []string{"hello=1.0-1"}, names(l))
	// A rerun finds the index in the cache.
	_, err = d.Resolve(ctx, []string{"hello"})
	require.NoError(t, err)
	assert.Equal(t, 1, a.hits["/dists/bullseye/main/binary-amd64/Packages.gz"])
	assert.Equal(t, 2, a.hits["/dists/bullseye/InRelease"])

	// The index changes under a signed InRelease that still names the old one.
	d.IndexCache = ""
	a.set("/dists/bullseye/main/binary-amd64/Packages.gz", compress(t, ".gz", []byte("Package: evil\n")))
	_, err = d.Resolve(ctx, []string{"hello"})
	require.ErrorIs(t, err, ErrChecksumMismatch)

	// A keyring without the archive's key.
	d.Keyring = openpgp.EntityList{newKey(t, "other")}
	_, err = d.Resolve(ctx, []string{"hello"})
	require.ErrorIs(t, err, ErrBadSignature)
	d.Keyring = nil
	_, err = d.Resolve(ctx, []string{"hello"})
	require.ErrorIs(t, err, ErrBadSignature)
}
