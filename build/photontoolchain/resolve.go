// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// ErrUnresolvable: a requirement of the package set has no provider in the
// repositories, or two requirements want different versions of one
// package.
var ErrUnresolvable = errors.New("photontoolchain: unresolvable requirement")

// Index is the packages of a release's repositories.
type Index struct {
	pkgs []*Package
	// byName are the packages by their name and the names they provide;
	// byFile by the files they list.
	byName, byFile map[string][]*Package
	// Limit bounds the choices Resolve tries when it backtracks; 0 means
	// DefaultResolveLimit.
	Limit int
}

// NewIndex indexes pkgs (from several repositories: a name may appear at
// several versions). Source packages and other architectures than x86_64
// and noarch are left out.
func NewIndex(pkgs []*Package) *Index {
	x := &Index{byName: map[string][]*Package{}, byFile: map[string][]*Package{}}
	for _, p := range pkgs {
		if p.Arch != "x86_64" && p.Arch != "noarch" {
			continue
		}
		x.pkgs = append(x.pkgs, p)
		names := []string{p.Name}
		for _, pr := range p.Provides {
			names = append(names, pr.Name)
		}
		for _, n := range names {
			if l := x.byName[n]; len(l) == 0 || l[len(l)-1] != p {
				x.byName[n] = append(l, p)
			}
		}
		for _, f := range p.Files {
			if l := x.byFile[f]; len(l) == 0 || l[len(l)-1] != p {
				x.byFile[f] = append(l, p)
			}
		}
	}
	return x
}

// Packages returns the indexed packages.
func (x *Index) Packages() []*Package { return x.pkgs }

// ParseRelation reads "name" or "name OP [epoch:]version[-release]" (OP
// one of = < > <= >=), as rpm writes a requirement.
func ParseRelation(s string) (Relation, error) {
	f := strings.Fields(s)
	switch len(f) {
	case 1:
		return Relation{Name: f[0]}, nil
	case 3:
		var flags string
		for k, v := range opText {
			if v == f[1] {
				flags = k
			}
		}
		if flags == "" {
			return Relation{}, fmt.Errorf("requirement %q: unknown operator %q", s, f[1])
		}
		epoch, rest, ok := strings.Cut(f[2], ":")
		if !ok || epoch == "0" {
			epoch = "" // no epoch is epoch 0
		}
		if !ok {
			rest = f[2]
		}
		ver, rel, _ := strings.Cut(rest, "-")
		if ver == "" {
			return Relation{}, fmt.Errorf("requirement %q: no version", s)
		}
		return Relation{Name: f[0], Flags: flags, Epoch: epoch, Ver: ver, Rel: rel}, nil
	}
	return Relation{}, fmt.Errorf("requirement %q: want name [OP version]", s)
}

// compareEVR orders two epoch, version, release triples as rpm does; a
// release missing from either side is not compared (a requirement on
// "12.2.0" accepts every release of it).
func compareEVR(e1, v1, r1, e2, v2, r2 string) int {
	n1, _ := strconv.Atoi(e1)
	n2, _ := strconv.Atoi(e2)
	if n1 != n2 {
		return n1 - n2
	}
	if c := photon.CompareRPMVersions(v1, v2); c != 0 {
		return c
	}
	if r1 == "" || r2 == "" {
		return 0
	}
	return photon.CompareRPMVersions(r1, r2)
}

// matches says whether what a package provides (p, a versioned or bare
// relation) satisfies requirement r. A bare provide satisfies any version,
// as in rpm.
func matches(p, r Relation) bool {
	if p.Name != r.Name {
		return false
	}
	if r.Flags == "" || p.Flags == "" {
		return true
	}
	if p.Flags != "EQ" {
		// Ranged provides are rare; take them as satisfying.
		return true
	}
	c := compareEVR(p.Epoch, p.Ver, p.Rel, r.Epoch, r.Ver, r.Rel)
	switch r.Flags {
	case "EQ":
		return c == 0
	case "LT":
		return c < 0
	case "GT":
		return c > 0
	case "LE":
		return c <= 0
	case "GE":
		return c >= 0
	}
	return false
}

// satisfies says whether package p meets requirement r: by its name and
// version, a provide, or (r a path) a file it lists.
func (p *Package) satisfies(r Relation) bool {
	self := Relation{Name: p.Name, Flags: "EQ", Epoch: p.Epoch, Ver: p.Version, Rel: p.Release}
	if matches(self, r) {
		return true
	}
	for _, pr := range p.Provides {
		if matches(pr, r) {
			return true
		}
	}
	if strings.HasPrefix(r.Name, "/") && r.Flags == "" {
		return slices.Contains(p.Files, r.Name)
	}
	return false
}

// newer orders packages newest first.
func newer(a, b *Package) int {
	return -compareEVR(a.Epoch, a.Version, a.Release, b.Epoch, b.Version, b.Release)
}

// Resolve returns the closure of want (ParseDep's form) under the
// packages' requirements, sorted by name. Requirements are met in order:
// one a chosen package meets adds nothing; otherwise the newest package of
// the required name that meets it is chosen, else the newest package
// providing it (by name order among different names, so that the choice
// is the same each time). Rich dependencies are met as rpm means them:
// "(a or b)" by whichever is chosen, else the first operand that
// resolves; "(a if b)" only when b is chosen (checked again once all else
// is); "(a with b)" by one package meeting both. When a choice leads to a
// requirement nothing meets (no provider, or a second version of a chosen
// name), the next candidate is tried, at most Limit choices in all.
// rpm's own features (rpmlib(...)) are no package's to provide.
func (x *Index) Resolve(want []string) (toolchain.List, error) {
	limit := x.Limit
	if limit <= 0 {
		limit = DefaultResolveLimit
	}
	s := &solver{x: x, chosen: map[string]*Package{}, deps: map[*Package][]*Dep{}, limit: limit}
	for _, w := range want {
		d, err := ParseDep(w)
		if err != nil {
			return nil, err
		}
		s.queue = append(s.queue, pending{dep: d, by: "the package set"})
	}
	if err := s.run(0); err != nil {
		var d *deadEnd
		if errors.As(err, &d) {
			err = d.err
		}
		return nil, err
	}
	chosen := s.chosen
	var list toolchain.List
	for _, p := range chosen {
		// kernelsrc.ReadPrimary refuses a package without a sha256 or
		// sha512 (SHA-1, md5, none); a Package made otherwise is checked
		// here, and the list's entries again by toolchain.Cache.
		if (p.SHA256 == "") == (p.SHA512 == "") {
			return nil, fmt.Errorf("%w: %s %s (%s): the repository gives no SHA-256 or SHA-512 of it", kernelsrc.ErrBadRepodata, p.Name, p.EVR(), p.URL)
		}
		if p.Size <= 0 {
			return nil, fmt.Errorf("%w: %s %s: the repository gives no size", kernelsrc.ErrBadRepodata, p.Name, p.EVR())
		}
		list = append(list, toolchain.Entry{Name: p.Name, Version: p.EVR(), Arch: p.Arch, SHA256: p.SHA256, SHA512: p.SHA512, Size: p.Size, URL: p.URL})
	}
	slices.SortFunc(list, func(a, b toolchain.Entry) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}
