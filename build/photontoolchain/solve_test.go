// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// mk is a package of a test index: "name-ver-rel", its requires as rpm
// writes them (a rich dependency goes whole into the entry's name, as
// createrepo writes it), its provides; its SHA-256 is made up.
func mk(nvr string, requires []string, provides ...string) *Package {
	f := strings.Split(nvr, "-")
	name, ver, rel := strings.Join(f[:len(f)-2], "-"), f[len(f)-2], f[len(f)-1]
	sum := sha256.Sum256([]byte(nvr))
	p := &Package{PackageEntry: kernelsrc.PackageEntry{Name: name, Arch: "x86_64", Version: ver, Release: rel,
		Href: "x86_64/" + nvr + ".x86_64.rpm", SHA256: hex.EncodeToString(sum[:]), Size: 100}}
	p.URL = "https://packages.example/5.0/photon_release_5.0_x86_64/" + p.Href
	p.Provides = []Relation{{Name: name, Flags: "EQ", Ver: ver, Rel: rel}}
	for _, r := range requires {
		if strings.HasPrefix(r, "(") {
			p.Requires = append(p.Requires, Relation{Name: r})
			continue
		}
		rel, err := ParseRelation(r)
		if err != nil {
			panic(err)
		}
		p.Requires = append(p.Requires, rel)
	}
	for _, pr := range provides {
		if strings.HasPrefix(pr, "/") {
			p.Files = append(p.Files, pr)
			continue
		}
		rel, err := ParseRelation(pr)
		if err != nil {
			panic(err)
		}
		p.Provides = append(p.Provides, rel)
	}
	return p
}

// photonLike is a Photon 5.0-like repository pair: the toolchain's
// packages with the requirements Photon's specs give them (gcc on its
// libraries at its exact version, glibc-devel on glibc, binutils on
// binutils-libs, systemd's rich Requires(post)), and the updates'
// newer builds.
func photonLike() []*Package {
	return []*Package{
		mk("gcc-12.2.0-2.ph5", []string{"libstdc++-devel = 12.2.0-2.ph5", "libgcc-devel = 12.2.0-2.ph5", "libgomp-devel = 12.2.0-2.ph5",
			"libgcc-atomic = 12.2.0-2.ph5", "mpc", "gmp", "rpmlib(PayloadIsZstd) <= 5.4.18-1", "/bin/sh"}, "gcc-10", "/usr/bin/gcc"),
		mk("libgcc-12.2.0-2.ph5", []string{"libc.so.6()(64bit)"}, "libgcc_s.so.1()(64bit)"),
		mk("libgcc-atomic-12.2.0-2.ph5", []string{"libgcc = 12.2.0-2.ph5"}),
		mk("libgcc-devel-12.2.0-2.ph5", []string{"libgcc = 12.2.0-2.ph5"}),
		mk("libstdc++-12.2.0-2.ph5", []string{"libgcc = 12.2.0-2.ph5"}),
		mk("libstdc++-devel-12.2.0-2.ph5", []string{"libstdc++ = 12.2.0-2.ph5"}),
		mk("libgomp-12.2.0-2.ph5", nil),
		mk("libgomp-devel-12.2.0-2.ph5", []string{"libgomp = 12.2.0-2.ph5"}),
		mk("mpc-1.3.1-1.ph5", []string{"gmp", "mpfr"}),
		mk("mpfr-4.1.0-2.ph5", []string{"gmp"}),
		mk("gmp-6.2.1-3.ph5", nil),
		mk("binutils-2.39-7.ph5", []string{"binutils-libs = 2.39-7.ph5"}, "/usr/bin/ld"),
		mk("binutils-libs-2.39-7.ph5", nil),
		mk("binutils-2.39-8.ph5", []string{"binutils-libs = 2.39-8.ph5"}, "/usr/bin/ld"), // its libs are not out yet
		mk("glibc-2.36-9.ph5", []string{"filesystem", "glibc-libs = 2.36-9.ph5"}, "/sbin/ldconfig", "rtld(GNU_HASH)"),
		mk("glibc-libs-2.36-9.ph5", nil, "libc.so.6()(64bit)"),
		mk("glibc-devel-2.36-9.ph5", []string{"glibc = 2.36-9.ph5"}),
		mk("filesystem-1.1-4.ph5", nil),
		mk("bash-5.2.15-1.ph5", []string{"(coreutils or coreutils-selinux or toybox)"}, "/bin/sh", "/usr/bin/bash"),
		mk("coreutils-9.1-7.ph5", nil),
		mk("coreutils-selinux-9.1-7.ph5", []string{"libselinux"}),
		mk("toybox-0.8.8-2.ph5", nil),
		mk("make-4.3-2.ph5", nil),
		mk("kmod-30-4.ph5", []string{"(systemd-udev if systemd)"}),
		mk("systemd-253.12-1.ph5", []string{"(coreutils or coreutils-selinux or toybox)"}),
		mk("systemd-udev-253.12-1.ph5", []string{"systemd = 253.12-1.ph5"}),
	}
}

func listNames(t *testing.T, x *Index, want ...string) []string {
	t.Helper()
	l, err := x.Resolve(want)
	require.NoError(t, err)
	var out []string
	for _, e := range l {
		out = append(out, e.Name+"-"+e.Version)
	}
	return out
}

func TestResolvePhotonLike(t *testing.T) {
	x := NewIndex(photonLike())
	assert.Equal(t, []string{
		"bash-5.2.15-1.ph5", "binutils-2.39-7.ph5", "binutils-libs-2.39-7.ph5", "coreutils-9.1-7.ph5", "filesystem-1.1-4.ph5",
		"gcc-12.2.0-2.ph5", "glibc-2.36-9.ph5", "glibc-devel-2.36-9.ph5", "glibc-libs-2.36-9.ph5", "gmp-6.2.1-3.ph5",
		"kmod-30-4.ph5", "libgcc-12.2.0-2.ph5", "libgcc-atomic-12.2.0-2.ph5", "libgcc-devel-12.2.0-2.ph5",
		"libgomp-12.2.0-2.ph5", "libgomp-devel-12.2.0-2.ph5", "libstdc++-12.2.0-2.ph5", "libstdc++-devel-12.2.0-2.ph5",
		"make-4.3-2.ph5", "mpc-1.3.1-1.ph5", "mpfr-4.1.0-2.ph5",
	}, listNames(t, x, "gcc = 12.2.0", "binutils", "glibc-devel", "make", "kmod"),
		"binutils 2.39-8 needs libs not published: 2.39-7 is taken; bash's (coreutils or ...) takes coreutils; "+
			"kmod's (systemd-udev if systemd) adds nothing without systemd")
}

func TestResolveRich(t *testing.T) {
	base := photonLike()
	for _, tc := range []struct {
		name  string
		extra []*Package
		want  []string
		list  []string
		err   error
		like  string
	}{
		{name: "or: one already chosen", want: []string{"toybox", "bash"},
			list: []string{"bash-5.2.15-1.ph5", "toybox-0.8.8-2.ph5"}},
		{name: "or: the first that resolves", want: []string{"(coreutils-selinux or toybox)"},
			list: []string{"toybox-0.8.8-2.ph5"}}, // coreutils-selinux needs libselinux, which is missing
		{name: "or: none resolves", want: []string{"(coreutils-selinux or nothing)"}, err: ErrUnresolvable,
			like: "unresolvable requirement: (coreutils-selinux or nothing) (required by the package set): no operand resolves; the first: " +
				"libselinux (required by coreutils-selinux 9.1-7.ph5): no package provides it"},
		{name: "if: condition chosen later", want: []string{"kmod", "systemd"},
			list: []string{"coreutils-9.1-7.ph5", "kmod-30-4.ph5", "systemd-253.12-1.ph5", "systemd-udev-253.12-1.ph5"}},
		{name: "if: condition chosen first", want: []string{"systemd", "kmod"},
			list: []string{"coreutils-9.1-7.ph5", "kmod-30-4.ph5", "systemd-253.12-1.ph5", "systemd-udev-253.12-1.ph5"}},
		{name: "if-else: else branch", want: []string{"(gmp if systemd else make)"}, list: []string{"make-4.3-2.ph5"}},
		{name: "if-else: then branch", want: []string{"make", "(gmp if make else toybox)"}, list: []string{"gmp-6.2.1-3.ph5", "make-4.3-2.ph5"}},
		{name: "unless: condition absent", want: []string{"(gmp unless make)"}, list: []string{"gmp-6.2.1-3.ph5"}},
		{name: "unless: condition present", want: []string{"make", "(gmp unless make)"}, list: []string{"make-4.3-2.ph5"}},
		{name: "unless-else", want: []string{"make", "(gmp unless make else toybox)"}, list: []string{"make-4.3-2.ph5", "toybox-0.8.8-2.ph5"}},
		{name: "and", want: []string{"(make and gmp)"}, list: []string{"gmp-6.2.1-3.ph5", "make-4.3-2.ph5"}},
		{name: "with: one package in range", want: []string{"(binutils >= 2.39 with binutils < 2.39-8)"},
			list: []string{"binutils-2.39-7.ph5", "binutils-libs-2.39-7.ph5"}},
		{name: "with: none in range", want: []string{"(binutils > 2.39-8 with binutils < 3)"}, err: ErrUnresolvable,
			like: "no package provides it"},
		{name: "without", want: []string{"(gcc-10 without gcc >= 12)"}, extra: []*Package{mk("gcc10-10.5.0-1.ph5", nil, "gcc-10")},
			list: []string{"gcc10-10.5.0-1.ph5"}},
		{name: "nested", want: []string{"((nothing and gmp) or (toybox and (make if toybox)))"}, list: []string{"make-4.3-2.ph5", "toybox-0.8.8-2.ph5"}},
		{name: "if: condition never chosen", want: []string{"(toybox if make)"}},
		{name: "rich dependency of the want list malformed", want: []string{"(make or)"}, err: ErrBadDependency, like: `"(make or)"`},
		{name: "malformed rich dependency of a chosen package", want: []string{"bad"}, extra: []*Package{mk("bad-1-1.ph5", []string{"(make and gmp or toybox)"})},
			err: ErrBadDependency, like: `bad 1-1.ph5 requires photontoolchain: malformed dependency: "(make and gmp or toybox)"`},
		{name: "condition inside with", want: []string{"odd"}, extra: []*Package{mk("odd-1-1.ph5", []string{"((make if gmp) with make)"})},
			err: ErrUndecidable, like: `((make if gmp) with make) (required by odd 1-1.ph5)`},
		{name: "a cycle", want: []string{"cyc-a"}, extra: []*Package{mk("cyc-a-1-1.ph5", []string{"cyc-b"}), mk("cyc-b-1-1.ph5", []string{"cyc-a = 1-1.ph5"})},
			list: []string{"cyc-a-1-1.ph5", "cyc-b-1-1.ph5"}},
		{name: "a rich cycle", want: []string{"ra"}, extra: []*Package{mk("ra-1-1.ph5", []string{"(rb if ra)"}), mk("rb-1-1.ph5", []string{"(ra or rb)"})},
			list: []string{"ra-1-1.ph5", "rb-1-1.ph5"}},
		{name: "backtrack past a conflict", want: []string{"glibc-devel", "app"},
			extra: []*Package{mk("app-2-1.ph5", []string{"glibc = 2.37-1.ph5"}), mk("app-1-1.ph5", []string{"glibc >= 2.36"}), mk("glibc-2.37-1.ph5", nil)},
			list:  []string{"app-1-1.ph5", "filesystem-1.1-4.ph5", "glibc-2.36-9.ph5", "glibc-devel-2.36-9.ph5", "glibc-libs-2.36-9.ph5"}},
		{name: "conflict without another candidate", want: []string{"glibc-devel", "app"},
			extra: []*Package{mk("app-2-1.ph5", []string{"glibc = 2.37-1.ph5"}), mk("glibc-2.37-1.ph5", nil)}, err: ErrUnresolvable,
			like: "glibc = 2.37-1.ph5 (required by app 2-1.ph5) needs glibc 2.37-1.ph5, and 2.36-9.ph5 is chosen already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := NewIndex(append(append([]*Package(nil), base...), tc.extra...))
			l, err := x.Resolve(tc.want)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.ErrorContains(t, err, tc.like)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, e := range l {
				got = append(got, e.Name+"-"+e.Version)
			}
			assert.Equal(t, tc.list, got)
		})
	}
}

// Backtracking is bounded: a chain of n names, each at two versions whose
// newest requires what does not exist, is 2^n paths; the limit stops the
// search with an error naming where.
func TestResolveLimit(t *testing.T) {
	var pkgs []*Package
	const n = 30
	for i := range n {
		next := fmt.Sprintf("c%02d", i+1)
		if i == n-1 {
			next = "missing"
		}
		pkgs = append(pkgs, mk(fmt.Sprintf("c%02d-2-1.ph5", i), []string{next}), mk(fmt.Sprintf("c%02d-1-1.ph5", i), []string{next}))
	}
	x := NewIndex(pkgs)
	x.Limit = 1000
	_, err := x.Resolve([]string{"c00"})
	require.ErrorIs(t, err, ErrResolveLimit)
	assert.ErrorContains(t, err, "after 1000 choices")
	assert.ErrorContains(t, err, "missing (required by c29 2-1.ph5): no package provides it")

	// Without the dead end it resolves at once, on the newest of each.
	pkgs = append(pkgs, mk("missing-1-1.ph5", nil))
	x = NewIndex(pkgs)
	x.Limit = n + 1
	names := listNames(t, x, "c00")
	assert.Len(t, names, n+1)
	assert.Equal(t, "c00-2-1.ph5", names[0])
}

// Conditions met one at a time, each only after the final check of the
// one before, count against the limit too.
func TestResolveLimitConditions(t *testing.T) {
	const n = 50
	var pkgs []*Package
	var want []string
	for i := n - 1; i >= 0; i-- {
		// j<i> wants k<i+1> once k<i> is in. Met in this order, each
		// round of checks brings in one more k.
		pkgs = append(pkgs, mk(fmt.Sprintf("j%02d-1-1.ph5", i), []string{fmt.Sprintf("(k%02d if k%02d)", i+1, i)}))
		want = append(want, fmt.Sprintf("j%02d", i))
	}
	for i := range n + 1 {
		pkgs = append(pkgs, mk(fmt.Sprintf("k%02d-1-1.ph5", i), nil))
	}
	want = append(want, "k00")
	x := NewIndex(pkgs)
	assert.Len(t, listNames(t, x, want...), 2*n+1)
	x.Limit = 10
	_, err := x.Resolve(want)
	require.ErrorIs(t, err, ErrResolveLimit)
	assert.ErrorContains(t, err, "rechecking conditional requirements: (k12 if k11) (required by j11 1-1.ph5)")
}

// One build in both the release and the updates repository is one
// candidate, the release's: not two to backtrack over.
func TestResolveSameBuildTwice(t *testing.T) {
	updates := func(p *Package) *Package {
		p.URL = strings.Replace(p.URL, "photon_release", "photon_updates", 1)
		return p
	}
	x := NewIndex([]*Package{mk("dup-1-1.ph5", []string{"missing"}), updates(mk("dup-1-1.ph5", []string{"missing"})),
		mk("make-4.3-2.ph5", nil), updates(mk("make-4.3-2.ph5", nil))})
	x.Limit = 1
	_, err := x.Resolve([]string{"dup"})
	require.ErrorIs(t, err, ErrUnresolvable)
	require.NotErrorIs(t, err, ErrResolveLimit)
	l, err := x.Resolve([]string{"make"})
	require.NoError(t, err)
	require.Len(t, l, 1)
	assert.Contains(t, l[0].URL, "/photon_release_5.0_x86_64/")
}

// A package listed by its SHA-512 only is a SHA-512 entry of the list; one
// with neither (made by hand: ReadPrimary refuses such a list) is refused.
func TestResolveDigests(t *testing.T) {
	make512 := mk("make-4.3-2.ph5", nil)
	sum := sha512.Sum512([]byte("make"))
	make512.SHA256, make512.SHA512 = "", hex.EncodeToString(sum[:])
	l, err := NewIndex([]*Package{make512}).Resolve([]string{"make"})
	require.NoError(t, err)
	require.Len(t, l, 1)
	assert.Equal(t, "", l[0].SHA256)
	assert.Equal(t, make512.SHA512, l[0].SHA512)
	assert.Contains(t, l.String(), " sha512:"+make512.SHA512+" 100 ")

	none := mk("make-4.3-2.ph5", nil)
	none.SHA256 = ""
	_, err = NewIndex([]*Package{none}).Resolve([]string{"make"})
	require.ErrorIs(t, err, kernelsrc.ErrBadRepodata)
	assert.ErrorContains(t, err, "make 4.3-2.ph5 (https://packages.example/5.0/photon_release_5.0_x86_64/x86_64/make-4.3-2.ph5.x86_64.rpm): the repository gives no SHA-256 or SHA-512")
}
