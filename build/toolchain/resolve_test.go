// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packagesFixture is a small Packages index in the shape of bullseye's.
const packagesFixture = `Package: gcc-10
Version: 10.2.1-6
Architecture: amd64
Depends: cpp-10 (= 10.2.1-6), gcc-10-base (= 10.2.1-6), binutils (>= 2.35.2), libc6 (>= 2.29), awk
Filename: pool/main/g/gcc-10/gcc-10_10.2.1-6_amd64.deb
Size: 100
SHA256: %[1]s
Description: GNU C compiler
 a continuation line

Package: gcc-10
Version: 10.2.1-1
Architecture: amd64
Depends: gcc-10-base (= 10.2.1-1)
Filename: pool/main/g/gcc-10/gcc-10_10.2.1-1_amd64.deb
Size: 100
SHA256: %[1]s

Package: cpp-10
Version: 10.2.1-6
Architecture: amd64
Depends: gcc-10-base (= 10.2.1-6), libc6:any (>= 2.29) | libc6.1
Filename: pool/main/g/gcc-10/cpp-10_10.2.1-6_amd64.deb
Size: 100
SHA256: %[1]s

Package: gcc-10-base
Version: 10.2.1-6
Architecture: amd64
Filename: pool/main/g/gcc-10/gcc-10-base_10.2.1-6_amd64.deb
Size: 100
SHA256: %[1]s

Package: gcc-10-base
Version: 10.2.1-1
Architecture: amd64
Filename: pool/main/g/gcc-10/gcc-10-base_10.2.1-1_amd64.deb
Size: 100
SHA256: %[1]s

Package: binutils
Version: 2.35.2-2
Architecture: amd64
Depends: binutils-x86-64-linux-gnu (= 2.35.2-2), libc6
Filename: pool/main/b/binutils/binutils_2.35.2-2_amd64.deb
Size: 100
SHA256: %[1]s

Package: binutils
Version: 2.31-1
Architecture: amd64
Filename: pool/main/b/binutils/binutils_2.31-1_amd64.deb
Size: 100
SHA256: %[1]s

Package: binutils-x86-64-linux-gnu
Version: 2.35.2-2
Architecture: amd64
Filename: pool/main/b/binutils/binutils-x86-64-linux-gnu_2.35.2-2_amd64.deb
Size: 100
SHA256: %[1]s

Package: libc6
Version: 2.31-13+deb11u11
Architecture: amd64
Pre-Depends: libgcc-s1
Filename: pool/main/g/glibc/libc6_2.31-13+deb11u11_amd64.deb
Size: 100
SHA256: %[1]s

Package: libgcc-s1
Version: 10.2.1-6
Architecture: amd64
Depends: gcc-10-base (= 10.2.1-6), libc6 (>= 2.14)
Filename: pool/main/g/gcc-10/libgcc-s1_10.2.1-6_amd64.deb
Size: 100
SHA256: %[1]s

Package: mawk
Version: 1.3.4.20200120-2
Architecture: amd64
Provides: awk
Filename: pool/main/m/mawk/mawk_1.3.4.20200120-2_amd64.deb
Size: 100
SHA256: %[1]s

Package: gawk
Version: 1:5.1.0-1
Architecture: amd64
Provides: awk
Filename: pool/main/g/gawk/gawk_5.1.0-1_amd64.deb
Size: 100
SHA256: %[1]s

Package: make
Version: 4.3-4.1
Architecture: amd64
Depends: libc6 (>= 2.27), make-guile (>> 9) | make-nothing | make-virtual (>= 1.0)
Filename: pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb
Size: 100
SHA256: %[1]s

Package: make-provider
Version: 1
Architecture: all
Provides: make-virtual (= 1.2)
Filename: pool/main/m/make-provider/make-provider_1_all.deb
Size: 100
SHA256: %[1]s

Package: unversioned-provider
Version: 1
Architecture: all
Provides: make-virtual
Filename: pool/main/u/unversioned-provider_1_all.deb
Size: 100
SHA256: %[1]s

Package: broken
Version: 1
Architecture: amd64
Depends: no-such-package (>= 1) | another-missing
Filename: pool/main/b/broken_1_amd64.deb
Size: 100
SHA256: %[1]s

Package: clash
Version: 1
Architecture: amd64
Depends: gcc-10-base (= 10.2.1-1)
Filename: pool/main/c/clash_1_amd64.deb
Size: 100
SHA256: %[1]s
`

func fixtureIndex(t *testing.T) *Index {
	idx, err := ParseIndex([]byte(fmt.Sprintf(packagesFixture, strings.Repeat("ab", 32))), "http://deb.example.org/debian/")
	require.NoError(t, err)
	return idx
}

func names(l List) []string {
	var n []string
	for _, e := range l {
		n = append(n, e.Name+"="+e.Version)
	}
	return n
}

func TestResolve(t *testing.T) {
	idx := fixtureIndex(t)
	for _, tc := range []struct {
		name    string
		want    []string
		got     []string
		errLike string
	}{{
		name: "highest version, versioned deps, arch qualifier, Provides by name order",
		want: []string{"gcc-10"},
		got: []string{"binutils=2.35.2-2", "binutils-x86-64-linux-gnu=2.35.2-2", "cpp-10=10.2.1-6", "gawk=1:5.1.0-1",
			"gcc-10=10.2.1-6", "gcc-10-base=10.2.1-6", "libc6=2.31-13+deb11u11", "libgcc-s1=10.2.1-6"},
	}, {
		name: "exact version asked for",
		want: []string{"gcc-10=10.2.1-1"},
		got:  []string{"gcc-10=10.2.1-1", "gcc-10-base=10.2.1-1"},
	}, {
		name: "an alternative met by a versioned Provides; an unversioned one does not qualify",
		want: []string{"make"},
		got:  []string{"gcc-10-base=10.2.1-6", "libc6=2.31-13+deb11u11", "libgcc-s1=10.2.1-6", "make=4.3-4.1", "make-provider=1"},
	}, {
		name: "a virtual dependency met by a provider already chosen adds nothing",
		want: []string{"mawk", "gcc-10"},
		got: []string{"binutils=2.35.2-2", "binutils-x86-64-linux-gnu=2.35.2-2", "cpp-10=10.2.1-6", "gcc-10=10.2.1-6",
			"gcc-10-base=10.2.1-6", "libc6=2.31-13+deb11u11", "libgcc-s1=10.2.1-6", "mawk=1.3.4.20200120-2"},
	}, {
		name:    "a chosen version that a versioned dependency excludes",
		want:    []string{"binutils=2.31-1", "gcc-10"},
		errLike: "gcc-10 10.2.1-6 (binutils (>= 2.35.2)) needs binutils 2.35.2-2, binutils 2.31-1 is already chosen",
	}, {
		name:    "unknown package",
		want:    []string{"gcc-12"},
		errLike: "gcc-12 is in no index",
	}, {
		name:    "unknown version names the versions there are",
		want:    []string{"gcc-10=9.3.0-1"},
		errLike: "the index has gcc-10 10.2.1-6, 10.2.1-1",
	}, {
		name:    "no alternative satisfiable",
		want:    []string{"broken"},
		errLike: "broken 1 depends on no-such-package (>= 1) | another-missing",
	}, {
		name:    "a later constraint clashes with an earlier choice",
		want:    []string{"gcc-10", "clash"},
		errLike: "needs gcc-10-base 10.2.1-1, gcc-10-base 10.2.1-6 is already chosen",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := idx.Resolve(tc.want)
			if tc.errLike != "" {
				require.ErrorIs(t, err, ErrUnresolvable)
				require.ErrorContains(t, err, tc.errLike)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.got, names(l))
			// Deterministic: the same request gives the same list and key.
			again, err := idx.Resolve(tc.want)
			require.NoError(t, err)
			assert.Equal(t, l.Key(), again.Key())
		})
	}
}

func TestResolveURLs(t *testing.T) {
	l, err := fixtureIndex(t).Resolve([]string{"make"})
	require.NoError(t, err)
	e, ok := l.Find("make")
	require.True(t, ok)
	assert.Equal(t, "http://deb.example.org/debian/pool/main/m/make-dfsg/make_4.3-4.1_amd64.deb", e.URL)
	assert.Equal(t, int64(100), e.Size)
}

func TestParseRelations(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    [][]Relation
		errLike string
	}{
		{"", nil, ""},
		{"a", [][]Relation{{{Name: "a"}}}, ""},
		{"a (>= 1.0), b:any | c (<< 2~)", [][]Relation{{{Name: "a", Op: ">=", Version: "1.0"}}, {{Name: "b"}, {Name: "c", Op: "<<", Version: "2~"}}}, ""},
		{"a (<1), b (> 2)", [][]Relation{{{Name: "a", Op: "<=", Version: "1"}}, {{Name: "b", Op: ">=", Version: "2"}}}, ""},
		{"a [amd64] <!nocheck>", [][]Relation{{{Name: "a"}}}, ""},
		{"a (>= 1", nil, "unclosed"},
		{"a (~ 1)", nil, "bad version constraint"},
		{"a b", nil, "bad relation"},
		{"a | , b", nil, "bad relation"},
	} {
		got, err := parseRelations(tc.in)
		if tc.errLike != "" {
			assert.ErrorContains(t, err, tc.errLike, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseIndexRefuses(t *testing.T) {
	good := "Package: a\nVersion: 1\nArchitecture: amd64\nFilename: pool/a.deb\nSize: 1\nSHA256: " + strings.Repeat("0", 64) + "\n"
	for _, tc := range []struct{ text, errLike string }{
		{strings.Replace(good, "pool/a.deb", "../../etc/passwd", 1), "bad Filename"},
		{strings.Replace(good, "pool/a.deb", "/etc/passwd", 1), "bad Filename"},
		{strings.Replace(good, "Size: 1", "Size: -1", 1), "bad Size"},
		{strings.Replace(good, strings.Repeat("0", 64), "00", 1), "no SHA256"},
		{strings.Replace(good, "Version: 1\n", "", 1), "without Package or Version"},
		{good + "Depends: a (>= \n", "Depends"},
		{good + "Package: b\n", "given twice"},
		{" continuation\n" + good, "continuation line before any field"},
	} {
		_, err := ParseIndex([]byte(tc.text), "http://x/")
		assert.ErrorContains(t, err, tc.errLike, tc.text)
	}
}

func TestParseList(t *testing.T) {
	l, err := fixtureIndex(t).Resolve([]string{"gcc-10"})
	require.NoError(t, err)
	back, err := ParseList(l.String())
	require.NoError(t, err)
	assert.Equal(t, l, back)
	assert.Equal(t, l.Key(), back.Key())

	text := l.String()
	lines := strings.SplitAfter(text, "\n")
	swapped := lines[0] + lines[2] + lines[1] + strings.Join(lines[3:], "")
	for _, tc := range []struct{ text, errLike string }{
		{"", "names no package"},
		{swapped, "not sorted"},
		{text + strings.SplitAfter(text, "\n")[len(lines)-2], "twice"},
		{strings.Replace(text, "http://", "file://", 1), "not an http(s) URL"},
		{"a 1 amd64 xyz 1 http://x/a.deb\n", "bad SHA-256"},
		{"a 1 amd64 sha512:" + strings.Repeat("a", 64) + " 1 http://x/a.rpm\n", "bad SHA-512"},
		{"a 1 amd64 sha1:" + strings.Repeat("a", 40) + " 1 http://x/a.rpm\n", "bad SHA-256"},
		{"a 1 amd64\n", "want 6 fields"},
	} {
		_, err := ParseList(tc.text)
		assert.ErrorContains(t, err, tc.errLike)
	}
}

// A list mixing SHA-256 and SHA-512 entries (an RPM repository that gives
// only SHA-512s) reads back as written; a SHA-256 list's text, and so the
// key of roots built before SHA-512 entries existed, is unchanged.
func TestParseListSHA512(t *testing.T) {
	l := List{
		{Name: "binutils", Version: "2.39-7.ph5", Arch: "x86_64", SHA512: strings.Repeat("ab", 64), Size: 10, URL: "https://r/binutils.rpm"},
		{Name: "gcc", Version: "12.2.0-2.ph5", Arch: "x86_64", SHA256: strings.Repeat("cd", 32), Size: 20, URL: "https://r/gcc.rpm"},
	}
	text := l.String()
	assert.Contains(t, text, "binutils 2.39-7.ph5 x86_64 sha512:"+strings.Repeat("ab", 64)+" 10 https://r/binutils.rpm\n")
	assert.Contains(t, text, "gcc 12.2.0-2.ph5 x86_64 "+strings.Repeat("cd", 32)+" 20 https://r/gcc.rpm\n")
	back, err := ParseList(text)
	require.NoError(t, err)
	assert.Equal(t, l, back)
	assert.Equal(t, l.Key(), back.Key())
	assert.NotEqual(t, l.Key(), List{l[0]}.Key())
}
