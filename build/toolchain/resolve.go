// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrUnresolvable: a package or one of its dependencies is in no index,
// or only in versions the constraints exclude.
var ErrUnresolvable = errors.New("toolchain: unresolvable package set")

// Package is one binary package of a Packages index.
type Package struct {
	Name, Version, Arch string
	// URL is where the .deb is (the archive root joined with Filename).
	URL    string
	SHA256 string
	Size   int64
	// Depends and PreDepends are the parsed fields; Provides names the
	// virtual packages (with their versions, when given) it stands for.
	Depends, PreDepends [][]Relation
	Provides            []Relation
}

// Relation is one alternative of a dependency: a name and an optional
// version constraint (Op is "", "<<", "<=", "=", ">=" or ">>").
type Relation struct {
	Name, Op, Version string
}

func (r Relation) String() string {
	if r.Op == "" {
		return r.Name
	}
	return r.Name + " (" + r.Op + " " + r.Version + ")"
}

// satisfiedBy reports whether version meets r's constraint.
func (r Relation) satisfiedBy(version string) bool {
	if r.Op == "" {
		return true
	}
	c := CompareVersions(version, r.Version)
	switch r.Op {
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// Index holds the packages of one or more Packages files.
type Index struct {
	byName    map[string][]*Package // highest version first after sort
	providers map[string][]*Package
}

func newIndex() *Index {
	return &Index{byName: map[string][]*Package{}, providers: map[string][]*Package{}}
}

// ParseIndex reads one uncompressed Packages file whose Filename fields
// are relative to the archive root base.
func ParseIndex(text []byte, base string) (*Index, error) {
	idx := newIndex()
	if err := idx.add(text, base); err != nil {
		return nil, err
	}
	idx.sort()
	return idx, nil
}

func (x *Index) add(text []byte, base string) error {
	return parseControl(text, func(p paragraph) error {
		pkg, err := packageOf(p, base)
		if err != nil {
			return err
		}
		x.byName[pkg.Name] = append(x.byName[pkg.Name], pkg)
		for _, v := range pkg.Provides {
			x.providers[v.Name] = append(x.providers[v.Name], pkg)
		}
		return nil
	})
}

// sort orders each name's versions highest first and providers by name,
// then version, so that every choice is deterministic.
func (x *Index) sort() {
	for _, l := range x.byName {
		sort.SliceStable(l, func(i, j int) bool { return CompareVersions(l[i].Version, l[j].Version) > 0 })
	}
	for _, l := range x.providers {
		sort.SliceStable(l, func(i, j int) bool {
			if l[i].Name != l[j].Name {
				return l[i].Name < l[j].Name
			}
			return CompareVersions(l[i].Version, l[j].Version) > 0
		})
	}
}

func packageOf(p paragraph, base string) (*Package, error) {
	pkg := &Package{Name: p["Package"], Version: p["Version"], Arch: p["Architecture"], SHA256: strings.ToLower(p["SHA256"])}
	if pkg.Name == "" || pkg.Version == "" {
		return nil, fmt.Errorf("a paragraph without Package or Version (Package %q)", pkg.Name)
	}
	what := pkg.Name + " " + pkg.Version
	file := p["Filename"]
	if file == "" || strings.HasPrefix(file, "/") || strings.Contains("/"+file+"/", "/../") {
		return nil, fmt.Errorf("%s: bad Filename %q", what, file)
	}
	pkg.URL = strings.TrimSuffix(base, "/") + "/" + file
	if !isSHA256(pkg.SHA256) {
		return nil, fmt.Errorf("%s: no SHA256", what)
	}
	size, err := strconv.ParseInt(p["Size"], 10, 64)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("%s: bad Size %q", what, p["Size"])
	}
	pkg.Size = size
	if pkg.Depends, err = parseRelations(p["Depends"]); err != nil {
		return nil, fmt.Errorf("%s: Depends: %w", what, err)
	}
	if pkg.PreDepends, err = parseRelations(p["Pre-Depends"]); err != nil {
		return nil, fmt.Errorf("%s: Pre-Depends: %w", what, err)
	}
	prov, err := parseRelations(p["Provides"])
	if err != nil {
		return nil, fmt.Errorf("%s: Provides: %w", what, err)
	}
	for _, alts := range prov {
		if len(alts) != 1 {
			return nil, fmt.Errorf("%s: Provides has alternatives", what)
		}
		pkg.Provides = append(pkg.Provides, alts[0])
	}
	return pkg, nil
}

// parseRelations parses "a (>= 1) | b:any, c [amd64] <!nocheck>".
// Architecture qualifiers and restrictions are dropped: binary packages of
// one architecture's index carry none that matter here.
func parseRelations(s string) ([][]Relation, error) {
	var out [][]Relation
	for _, clause := range strings.Split(s, ",") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		var alts []Relation
		for _, alt := range strings.Split(clause, "|") {
			r, err := parseRelation(alt)
			if err != nil {
				return nil, err
			}
			alts = append(alts, r)
		}
		out = append(out, alts)
	}
	return out, nil
}

func parseRelation(s string) (Relation, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "[<"); i >= 0 && !strings.Contains(s[:i], "(") {
		s = strings.TrimSpace(s[:i])
	}
	var r Relation
	name, rest, hasVersion := strings.Cut(s, "(")
	r.Name = strings.TrimSpace(name)
	if i := strings.IndexByte(r.Name, ':'); i >= 0 {
		r.Name = r.Name[:i]
	}
	if r.Name == "" || strings.ContainsAny(r.Name, " \t)") {
		return r, fmt.Errorf("bad relation %q", truncate(s, 80))
	}
	if hasVersion {
		inner, _, ok := strings.Cut(rest, ")")
		if !ok {
			return r, fmt.Errorf("unclosed version in %q", truncate(s, 80))
		}
		inner = strings.TrimSpace(inner)
		for _, op := range []string{"<<", "<=", ">=", ">>", "=", "<", ">"} {
			if v, ok := strings.CutPrefix(inner, op); ok {
				r.Op, r.Version = op, strings.TrimSpace(v)
				break
			}
		}
		switch r.Op { // "<" and ">" are dpkg's obsolete spellings of <= and >=
		case "<":
			r.Op = "<="
		case ">":
			r.Op = ">="
		}
		if r.Op == "" || r.Version == "" {
			return r, fmt.Errorf("bad version constraint in %q", truncate(s, 80))
		}
	}
	return r, nil
}

// Resolve picks the packages want names ("gcc-10", or "gcc-10=10.2.1-6"
// for an exact version) and everything their Depends and Pre-Depends
// require. A dependency already met by a chosen package (by name or by
// Provides) adds nothing; otherwise its first alternative that the index
// can satisfy is chosen: the highest version of a real package of that
// name that meets the constraint, else the first provider by name. There is
// no backtracking: a choice that a later constraint rejects is an error
// naming both. Conflicts and Breaks are not checked (nothing is installed
// over a running system, and a root holds exactly what it lists).
func (x *Index) Resolve(want []string) (List, error) {
	chosen := map[string]*Package{}
	var queue []*Package
	choose := func(p *Package, why string) error {
		if old, ok := chosen[p.Name]; ok {
			if old != p {
				return fmt.Errorf("%w: %s needs %s %s, %s %s is already chosen", ErrUnresolvable, why, p.Name, p.Version, old.Name, old.Version)
			}
			return nil
		}
		chosen[p.Name] = p
		queue = append(queue, p)
		return nil
	}
	for _, w := range want {
		name, version, exact := strings.Cut(w, "=")
		r := Relation{Name: name}
		if exact {
			r.Op, r.Version = "=", version
		}
		p := x.real(r)
		if p == nil {
			return nil, fmt.Errorf("%w: %s is in no index%s", ErrUnresolvable, r, x.versionsOf(name))
		}
		if err := choose(p, "the request"); err != nil {
			return nil, err
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, dep := range append(append([][]Relation{}, p.PreDepends...), p.Depends...) {
			if metBy(dep, chosen) {
				continue
			}
			var pick *Package
			for _, alt := range dep {
				if pick = x.real(alt); pick == nil {
					pick = x.provider(alt)
				}
				if pick != nil {
					break
				}
			}
			if pick == nil {
				return nil, fmt.Errorf("%w: %s %s depends on %s, which no index satisfies%s", ErrUnresolvable, p.Name, p.Version, alternatives(dep), x.versionsOf(dep[0].Name))
			}
			if err := choose(pick, p.Name+" "+p.Version+" ("+alternatives(dep)+")"); err != nil {
				return nil, err
			}
		}
	}
	list := make(List, 0, len(chosen))
	for _, p := range chosen {
		list = append(list, Entry{Name: p.Name, Version: p.Version, Arch: p.Arch, SHA256: p.SHA256, Size: p.Size, URL: p.URL})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// real returns the highest version of a package named r.Name meeting r.
func (x *Index) real(r Relation) *Package {
	for _, p := range x.byName[r.Name] {
		if r.satisfiedBy(p.Version) {
			return p
		}
	}
	return nil
}

// provider returns the first package providing r.Name in a way meeting r
// (a versioned dependency needs a versioned Provides).
func (x *Index) provider(r Relation) *Package {
	for _, p := range x.providers[r.Name] {
		if providesFor(p, r) {
			return p
		}
	}
	return nil
}

func providesFor(p *Package, r Relation) bool {
	for _, v := range p.Provides {
		if v.Name != r.Name {
			continue
		}
		if r.Op == "" || (v.Op == "=" && r.satisfiedBy(v.Version)) {
			return true
		}
	}
	return false
}

// metBy reports whether a chosen package meets one of dep's alternatives.
func metBy(dep []Relation, chosen map[string]*Package) bool {
	for _, alt := range dep {
		if p, ok := chosen[alt.Name]; ok && alt.satisfiedBy(p.Version) {
			return true
		}
	}
	// Provides, in name order, so the answer does not depend on map order.
	names := make([]string, 0, len(chosen))
	for n := range chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, alt := range dep {
		for _, n := range names {
			if providesFor(chosen[n], alt) {
				return true
			}
		}
	}
	return false
}

func alternatives(dep []Relation) string {
	s := make([]string, len(dep))
	for i, r := range dep {
		s[i] = r.String()
	}
	return strings.Join(s, " | ")
}

func (x *Index) versionsOf(name string) string {
	l := x.byName[name]
	if len(l) == 0 {
		return ""
	}
	v := make([]string, len(l))
	for i, p := range l {
		v[i] = p.Version
	}
	return " (the index has " + name + " " + strings.Join(v, ", ") + ")"
}
