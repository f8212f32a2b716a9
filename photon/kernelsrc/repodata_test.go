// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testRepomd = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="other"><location href="repodata/other.xml.gz"/></data>
  <data type="primary"><checksum type="sha256">%s</checksum><location href="repodata/abc-primary.xml.gz"/><size>10</size></data>
</repomd>`

// testSHA512 is a well-formed SHA-512 digest for the fixtures.
const testSHA512 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

const testPrimary = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="2">
<package type="rpm"><name>linux</name><arch>src</arch><version epoch="0" ver="5.10.118" rel="3.ph4"/>
<checksum type="sha256" pkgid="YES">ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789</checksum>
<size package="1234" installed="0" archive="0"/><location href="linux-5.10.118-3.ph4.src.rpm"/>
<format><rpm:license xmlns:rpm="http://linux.duke.edu/metadata/rpm">GPLv2</rpm:license></format></package>
<package type="rpm"><name>linux-rt</name><arch>src</arch><version epoch="0" ver="5.10.118" rel="3.ph4"/>
<checksum type="sha512" pkgid="YES">` + testSHA512 + `</checksum><size package="99"/><location href="linux-rt-5.10.118-3.ph4.src.rpm"/></package>
</metadata>`

func TestParsePrimary(t *testing.T) {
	pkgs, err := ParsePrimary(strings.NewReader(testPrimary), nil)
	require.NoError(t, err)
	require.Len(t, pkgs, 2)
	assert.Equal(t, PackageEntry{Name: "linux", Arch: "src", Epoch: "0", Version: "5.10.118", Release: "3.ph4",
		Href: "linux-5.10.118-3.ph4.src.rpm", SHA256: strings.ToLower("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"), Size: 1234}, pkgs[0])
	assert.Equal(t, "", pkgs[1].SHA256)
	assert.Equal(t, testSHA512, pkgs[1].SHA512)

	sha1 := strings.Replace(testPrimary, `type="sha512"`, `type="sha1"`, 1)
	_, err = ParsePrimary(strings.NewReader(sha1), nil)
	require.ErrorIs(t, err, ErrBadRepodata)
	assert.Contains(t, err.Error(), `package "linux-rt" (linux-rt-5.10.118-3.ph4.src.rpm): checksum type "sha1" is not accepted (only sha256 and sha512)`)
	pkgs, err = ParsePrimary(strings.NewReader(sha1), func(p PackageEntry) bool { return p.Name == "linux" })
	require.NoError(t, err, "a package that is not kept is not checked")
	assert.Len(t, pkgs, 1)

	pkgs, err = ParsePrimary(strings.NewReader(testPrimary), func(p PackageEntry) bool { return p.FileName() == "linux-rt-5.10.118-3.ph4.src.rpm" })
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	assert.Equal(t, "linux-rt", pkgs[0].Name)
}

func TestParsePrimaryRejects(t *testing.T) {
	cases := map[string]string{
		"not xml":       "hello",
		"no metadata":   "<foo/>",
		"absolute href": `<metadata><package><name>x</name><location href="/etc/passwd"/></package></metadata>`,
		"dotdot href":   `<metadata><package><name>x</name><location href="../x.rpm"/></package></metadata>`,
		"bad checksum":  `<metadata><package><name>x</name><checksum type="sha256">zz</checksum><location href="x.rpm"/></package></metadata>`,
		"negative size": `<metadata><package><name>x</name><size package="-1"/><location href="x.rpm"/></package></metadata>`,
		"truncated":     `<metadata><package><name>x</name>`,
	}
	for name, doc := range cases {
		_, err := ParsePrimary(strings.NewReader(doc), nil)
		assert.ErrorIs(t, err, ErrBadRepodata, name)
	}
}

func TestReadPrimaryChecksAndDecompresses(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(testPrimary))
	require.NoError(t, w.Close())
	sum := sha256.Sum256(gz.Bytes())
	md, err := ParseRepoMD(strings.NewReader(strings.Replace(testRepomd, "%s", hex.EncodeToString(sum[:]), 1)))
	require.NoError(t, err)
	primary, err := md.Primary()
	require.NoError(t, err)
	assert.Equal(t, "repodata/abc-primary.xml.gz", primary.Location.Href)
	pkgs, err := ReadPrimary(primary, gz.Bytes(), nil)
	require.NoError(t, err)
	assert.Len(t, pkgs, 2)

	corrupt := append([]byte(nil), gz.Bytes()...)
	corrupt[len(corrupt)/2] ^= 1
	_, err = ReadPrimary(primary, corrupt, nil)
	require.ErrorIs(t, err, ErrBadRepodata)
	assert.Contains(t, err.Error(), "repomd.xml says")
}

func TestRepoMDRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"no primary":    `<repomd><data type="other"><location href="a"/></data></repomd>`,
		"hostile href":  `<repomd><data type="primary"><location href="../../x.xml.gz"/></data></repomd>`,
		"empty href":    `<repomd><data type="primary"></data></repomd>`,
		"not xml":       `{"json": true}`,
		"huge document": "<repomd>" + strings.Repeat(" ", maxRepomdSize) + "</repomd>",
	} {
		md, err := ParseRepoMD(strings.NewReader(doc))
		if err == nil {
			_, err = md.Primary()
		}
		assert.ErrorIs(t, err, ErrBadRepodata, name)
	}
}

func TestDecompressUnknown(t *testing.T) {
	_, err := Decompress("primary.sqlite.lz4", strings.NewReader(""))
	require.ErrorIs(t, err, ErrBadRepodata)
	_, err = Decompress("primary.xml.gz", strings.NewReader("not gzip"))
	require.ErrorIs(t, err, ErrBadRepodata)
}

func FuzzParseRepoMD(f *testing.F) {
	f.Add(testRepomd)
	f.Add(`<repomd><data type="primary"><location href="repodata/p.xml.zst"/></data></repomd>`)
	f.Fuzz(func(t *testing.T, doc string) {
		md, err := ParseRepoMD(strings.NewReader(doc))
		if err != nil {
			return
		}
		if p, err := md.Primary(); err == nil && !isCleanRelative(p.Location.Href) {
			t.Fatalf("accepted hostile href %q", p.Location.Href)
		}
	})
}

func FuzzParsePrimary(f *testing.F) {
	f.Add([]byte(testPrimary))
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(testPrimary))
	_ = w.Close()
	f.Add(gz.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"p.xml", "p.xml.gz", "p.xml.xz", "p.xml.zst", "p.xml.bz2"} {
			rc, err := Decompress(name, bytes.NewReader(data))
			if err != nil {
				continue
			}
			pkgs, err := ParsePrimary(rc, nil)
			rc.Close()
			for _, p := range pkgs {
				if err == nil && !isCleanRelative(p.Href) {
					t.Fatalf("accepted hostile href %q", p.Href)
				}
			}
		}
	})
}
