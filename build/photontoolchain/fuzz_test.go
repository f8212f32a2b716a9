// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"errors"
	"testing"
)

// FuzzReadRelations: a primary list (its checksum matched repomd.xml, which
// is no more trusted than the list) never panics the relations reader.
func FuzzReadRelations(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
<package type="rpm"><name>gcc</name><location href="x86_64/gcc.rpm"/><format>
<rpm:provides><rpm:entry name="gcc" flags="EQ" epoch="0" ver="12.2.0" rel="2.ph5"/></rpm:provides>
<rpm:requires><rpm:entry name="libgcc" flags="EQ" epoch="0" ver="12.2.0" rel="2.ph5"/><rpm:entry name="/bin/sh"/></rpm:requires>
<file>/usr/bin/gcc</file></format></package></metadata>`))
	f.Add([]byte(`<metadata><package><format><rpm:requires><rpm:entry`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rels, err := readRelations("primary.xml", data)
		if err != nil {
			return
		}
		for _, r := range rels {
			for _, rel := range append(r.provides, r.requires...) {
				_ = rel.String()
			}
		}
	})
}

// FuzzParseRelation: what ParseRelation accepts prints as a relation that
// reads back the same.
func FuzzParseRelation(f *testing.F) {
	for _, s := range []string{"gcc", "gcc = 12.2.0", "glibc >= 1:2.36-3.ph5", "a < b", "x = -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRelation(s)
		if err != nil {
			return
		}
		back, err := ParseRelation(r.String())
		if err != nil {
			t.Fatalf("%q reads as %q, which does not read back: %v", s, r.String(), err)
		}
		if back != r {
			t.Fatalf("%q reads as %+v, printed %q reads as %+v", s, r, r.String(), back)
		}
	})
}

// FuzzParseDep: a requirement from a primary list (rich dependencies
// included, untrusted) never panics or recurses without bound, and what
// ParseDep accepts prints as a dependency that reads back the same.
func FuzzParseDep(f *testing.F) {
	for _, s := range []string{"gcc", "(coreutils or coreutils-selinux or toybox)", "(a if b else c)", "(a unless (b with c))",
		"((x >= 1) with (x < 2~~))", "(perl(Foo::Bar) without b)", "(a and b and c)", "((((a))))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDep(s)
		if err != nil {
			return
		}
		back, err := ParseDep(d.String())
		if err != nil {
			t.Fatalf("%q reads as %q, which does not read back: %v", s, d.String(), err)
		}
		if back.String() != d.String() {
			t.Fatalf("%q reads as %q, which reads back as %q", s, d.String(), back.String())
		}
	})
}

// FuzzResolve: whatever a repository's package requires (rich
// dependencies included), resolving it ends, within the choice limit,
// with a list or an error of a known kind: never a panic, a hang or an
// unmet requirement.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"(coreutils or toybox)", "(systemd-udev if systemd)", "((gmp if make) with make)",
		"(binutils >= 2.39 with binutils < 2.39-8)", "(a and b or c)", "(toybox unless make else gmp)", "(gcc-10 without gcc >= 12)"} {
		f.Add(s, "make")
	}
	f.Fuzz(func(t *testing.T, req, also string) {
		fz := mk("fz-1-1.ph5", nil)
		// As a primary list holds it: a relation, or a name (a rich
		// dependency whole).
		r, err := ParseRelation(req)
		if err != nil {
			r = Relation{Name: req}
		}
		fz.Requires = []Relation{r}
		pkgs := append(photonLike(), fz)
		x := NewIndex(pkgs)
		x.Limit = 200
		want := []string{"fz"}
		if _, err := ParseRelation(also); err == nil {
			want = append(want, also)
		}
		l, err := x.Resolve(want)
		if err != nil {
			for _, known := range []error{ErrUnresolvable, ErrUndecidable, ErrResolveLimit, ErrBadDependency} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("%q: an error of no known kind: %v", req, err)
		}
		// Every requirement of every listed package holds in the list.
		s := &solver{x: x, chosen: map[string]*Package{}}
		for _, e := range l {
			for _, p := range x.pkgs {
				if p.Name == e.Name && p.EVR() == e.Version && p.URL == e.URL {
					s.chosen[p.Name], s.trail = p, append(s.trail, p)
				}
			}
		}
		for _, p := range s.trail {
			for _, r := range p.Requires {
				d, err := requirement(r)
				if err != nil {
					t.Fatalf("%q: %s listed with a malformed requirement: %v", req, p.Name, err)
				}
				if ok, err := s.holds(d); err != nil || !ok {
					t.Fatalf("%q: %s's requirement %s is unmet by the list (%v)", req, p.Name, d, err)
				}
			}
		}
	})
}
