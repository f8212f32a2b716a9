// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUndecidable: a rich dependency the resolver cannot decide (a
// condition inside "with" or "without", or requirements that keep failing
// whatever is chosen). It is never dropped: resolution fails, naming the
// package and the requirement.
var ErrUndecidable = errors.New("photontoolchain: undecidable requirement")

// ErrResolveLimit: backtracking tried more choices than the limit.
var ErrResolveLimit = errors.New("photontoolchain: resolution gave up")

// DefaultResolveLimit bounds the choices Resolve tries (each candidate of
// a requirement is one). A toolchain closure of Photon's repositories
// makes about one per chosen package; backtracking over a few wrong
// newest versions adds tens.
const DefaultResolveLimit = 20000

// pending is a queued requirement and what required it, for errors.
type pending struct {
	dep *Dep
	by  string
}

// alternative is one way to meet a requirement: choose pkg, or require
// deps instead.
type alternative struct {
	pkg  *Package
	deps []*Dep
}

// solver resolves by depth-first search: requirements are met in queue
// order, each by its first alternative (the newest candidate, the first
// operand of an or); a dead end further on undoes the choices back to the
// latest requirement with another alternative and tries that. What is
// chosen and queued only grows between choice points, so undoing is
// truncating.
type solver struct {
	x      *Index
	chosen map[string]*Package
	trail  []*Package // chosen, in order
	deps   map[*Package][]*Dep
	queue  []pending
	tries  int
	limit  int
	// firstDead is the first dead end met, for the limit's error.
	firstDead error
	// settled is len(trail) at the last final check, to see a check that
	// finds unmet requirements again without anything new chosen.
	settled int
}

// deadEnd marks a failure that another alternative may avoid.
type deadEnd struct{ err error }

func (d *deadEnd) Error() string { return d.err.Error() }
func (d *deadEnd) Unwrap() error { return d.err }

func (s *solver) deadEndf(format string, args ...any) error {
	return &deadEnd{fmt.Errorf("%w: "+format, append([]any{ErrUnresolvable}, args...)...)}
}

// run meets the queued requirements from head on; nil when all are met.
func (s *solver) run(head int) error {
	for {
		for head < len(s.queue) {
			it := s.queue[head]
			head++
			ok, err := s.holds(it.dep)
			if err != nil {
				return fmt.Errorf("%s (required by %s): %w", it.dep, it.by, err)
			}
			if ok {
				continue
			}
			alts, err := s.alternatives(it)
			if err != nil {
				return err
			}
			if len(alts) == 1 {
				if err := s.apply(alts[0], it.by); err != nil {
					return err
				}
				continue
			}
			return s.branch(head, it, alts)
		}
		// Conditions ("if", "unless") may have become true since their
		// requirement was met: check every chosen package's requirements
		// against the final set, and meet those that fail.
		again, err := s.recheck()
		if err != nil || !again {
			return err
		}
		// Each round costs a pass over every requirement: count it as a
		// choice, so that a chain of conditions cannot go on unbounded.
		if s.tries++; s.tries > s.limit {
			return fmt.Errorf("%w after %d choices (Index.Limit), rechecking conditional requirements: %s (required by %s)", ErrResolveLimit, s.limit, s.queue[head].dep, s.queue[head].by)
		}
	}
}

// branch tries each alternative of it in turn with the rest of the queue.
func (s *solver) branch(head int, it pending, alts []alternative) error {
	markTrail, markQueue, settled := len(s.trail), len(s.queue), s.settled
	var first error
	for _, a := range alts {
		s.tries++
		if s.tries > s.limit {
			err := fmt.Errorf("%w after %d choices (Index.Limit), at %s (required by %s)", ErrResolveLimit, s.limit, it.dep, it.by)
			if s.firstDead != nil {
				err = fmt.Errorf("%w; the first dead end: %w", err, s.firstDead)
			}
			return err
		}
		err := s.apply(a, it.by)
		if err == nil {
			err = s.run(head)
		}
		var d *deadEnd
		if err == nil || !errors.As(err, &d) {
			return err
		}
		if first == nil {
			first = err
		}
		if s.firstDead == nil {
			s.firstDead = d.err // not a deadEnd: the limit's error is final
		}
		for _, p := range s.trail[markTrail:] {
			delete(s.chosen, p.Name)
		}
		s.trail, s.queue, s.settled = s.trail[:markTrail], s.queue[:markQueue], settled
	}
	if it.dep.Op == OpOr {
		// Say which requirement left no way out; a relation's candidates
		// are versions of it, whose first dead end says enough.
		var d *deadEnd
		errors.As(first, &d)
		return s.deadEndf("%s (required by %s): no operand resolves; the first: %s", it.dep, it.by, strings.TrimPrefix(d.err.Error(), ErrUnresolvable.Error()+": "))
	}
	return first
}

// apply takes an alternative: chooses its package, queueing its
// requirements, or queues its requirements.
func (s *solver) apply(a alternative, by string) error {
	if a.pkg == nil {
		for _, d := range a.deps {
			s.queue = append(s.queue, pending{dep: d, by: by})
		}
		return nil
	}
	p := a.pkg
	deps, ok := s.deps[p]
	if !ok {
		for _, r := range p.Requires {
			d, err := requirement(r)
			if err != nil {
				return fmt.Errorf("%s %s requires %w", p.Name, p.EVR(), err)
			}
			deps = append(deps, d)
		}
		s.deps[p] = deps
	}
	s.chosen[p.Name] = p
	s.trail = append(s.trail, p)
	by = p.Name + " " + p.EVR()
	for _, d := range deps {
		s.queue = append(s.queue, pending{dep: d, by: by})
	}
	return nil
}

// requirement reads one requires entry of a primary list: a relation, or
// a rich dependency whole in its name.
func requirement(r Relation) (*Dep, error) {
	if r.Flags == "" && strings.HasPrefix(r.Name, "(") {
		return ParseDep(r.Name)
	}
	return &Dep{Rel: r}, nil
}

// recheck queues every chosen package's requirement the chosen set does
// not meet; it reports whether it queued any.
func (s *solver) recheck() (bool, error) {
	var unmet []pending
	for _, p := range s.trail {
		for _, d := range s.deps[p] {
			ok, err := s.holds(d)
			if err != nil {
				return false, fmt.Errorf("%s (required by %s %s): %w", d, p.Name, p.EVR(), err)
			}
			if !ok {
				unmet = append(unmet, pending{dep: d, by: p.Name + " " + p.EVR()})
			}
		}
	}
	if len(unmet) == 0 {
		return false, nil
	}
	if len(s.trail) == s.settled {
		// Met once, unmet again with nothing new chosen: no end to it.
		return false, fmt.Errorf("%w: %s (required by %s) is unmet again after it was met", ErrUndecidable, unmet[0].dep, unmet[0].by)
	}
	s.settled = len(s.trail)
	s.queue = append(s.queue, unmet...)
	return true, nil
}

// holds says whether the chosen set meets d.
func (s *solver) holds(d *Dep) (bool, error) {
	switch d.Op {
	case "":
		if ignored(d.Rel) {
			return true, nil
		}
		return s.anyChosen(d)
	case OpWith, OpWithout:
		return s.anyChosen(d)
	case OpAnd, OpOr:
		for _, a := range d.Args {
			ok, err := s.holds(a)
			if err != nil || ok != (d.Op == OpAnd) {
				return ok, err
			}
		}
		return d.Op == OpAnd, nil
	}
	branch, err := s.conditionBranch(d)
	if err != nil || branch == nil {
		return branch == nil, err
	}
	return s.holds(branch)
}

// conditionBranch is what an if or unless requires given its condition
// over the chosen set: nil when nothing.
func (s *solver) conditionBranch(d *Dep) (*Dep, error) {
	cond, err := s.holds(d.Args[1])
	if err != nil {
		return nil, err
	}
	if cond == (d.Op == OpIf) {
		return d.Args[0], nil
	}
	if len(d.Args) == 3 {
		return d.Args[2], nil
	}
	return nil, nil
}

// anyChosen says whether a chosen package meets d, looking only at the
// packages that could.
func (s *solver) anyChosen(d *Dep) (bool, error) {
	pool, err := s.x.pool(d)
	if err != nil {
		return false, err
	}
	for _, p := range pool {
		if s.chosen[p.Name] != p {
			continue
		}
		ok, err := p.meets(d)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// pool are the packages that may meet d on their own (a superset): those
// providing its relation's name, or listing it as a file; for with, and
// and without those of the first operand, which each must meet; for or
// those of every operand.
func (x *Index) pool(d *Dep) ([]*Package, error) {
	switch d.Op {
	case "":
		pool := x.byName[d.Rel.Name]
		if strings.HasPrefix(d.Rel.Name, "/") {
			pool = append(slices.Clip(pool), x.byFile[d.Rel.Name]...)
		}
		return pool, nil
	case OpWith, OpAnd, OpWithout:
		return x.pool(d.Args[0])
	case OpOr:
		var pool []*Package
		for _, a := range d.Args {
			p, err := x.pool(a)
			if err != nil {
				return nil, err
			}
			pool = append(slices.Clip(pool), p...)
		}
		return pool, nil
	}
	return nil, fmt.Errorf("%w: %q inside %q or %q is about the package set, not one package", ErrUndecidable, d.Op, OpWith, OpWithout)
}

// ignored are rpm's own features, no package's to provide.
func ignored(r Relation) bool {
	return strings.HasPrefix(r.Name, "rpmlib(") || strings.HasPrefix(r.Name, "config(")
}

// meets says whether the one package p meets d: a relation, with (all
// operands by p), without (the first but not the second), and and or of
// those. Conditions are about the whole set, not one package.
func (p *Package) meets(d *Dep) (bool, error) {
	switch d.Op {
	case "":
		return p.satisfies(d.Rel), nil
	case OpWith, OpAnd:
		for _, a := range d.Args {
			if ok, err := p.meets(a); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case OpOr:
		for _, a := range d.Args {
			if ok, err := p.meets(a); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case OpWithout:
		ok, err := p.meets(d.Args[0])
		if err != nil || !ok {
			return false, err
		}
		for _, a := range d.Args[1:] {
			if not, err := p.meets(a); err != nil || not {
				return false, err
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("%w: %q inside %q or %q is about the package set, not one package", ErrUndecidable, d.Op, OpWith, OpWithout)
}

// alternatives are the ways to meet it, which the chosen set does not, in
// the order they are tried.
func (s *solver) alternatives(it pending) ([]alternative, error) {
	d := it.dep
	switch d.Op {
	case OpAnd:
		return []alternative{{deps: d.Args}}, nil
	case OpOr:
		var alts []alternative
		for _, a := range d.Args {
			alts = append(alts, alternative{deps: []*Dep{a}})
		}
		return alts, nil
	case OpIf, OpUnless:
		branch, err := s.conditionBranch(d)
		if err != nil {
			return nil, fmt.Errorf("%s (required by %s): %w", d, it.by, err)
		}
		// holds said unmet, so the condition requires something.
		return []alternative{{deps: []*Dep{branch}}}, nil
	}
	cands, err := s.x.candidates(d)
	if err != nil {
		return nil, fmt.Errorf("%s (required by %s): %w", d, it.by, err)
	}
	if len(cands) == 0 {
		return nil, s.deadEndf("%s (required by %s): no package provides it", d, it.by)
	}
	var alts []alternative
	var conflict *Package
	for _, p := range cands {
		if _, taken := s.chosen[p.Name]; taken {
			// One version of a name: this one does not meet d.
			if conflict == nil {
				conflict = p
			}
			continue
		}
		alts = append(alts, alternative{pkg: p})
	}
	if len(alts) == 0 {
		return nil, s.deadEndf("%s (required by %s) needs %s %s, and %s is chosen already", d, it.by, conflict.Name, conflict.EVR(), s.chosen[conflict.Name].EVR())
	}
	return alts, nil
}

// candidates are the packages that meet d (a relation, with or without):
// those bearing its (first) name, newest first, then the others by name,
// each newest first, so that the choice is the same each time.
func (x *Index) candidates(d *Dep) ([]*Package, error) {
	name := d.firstName()
	pool, err := x.pool(d)
	if err != nil {
		return nil, err
	}
	var named, others []*Package
	seen := map[*Package]bool{}
	for _, p := range pool {
		ok, err := p.meets(d)
		if err != nil {
			return nil, err
		}
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		if p.Name == name {
			named = append(named, p)
		} else {
			others = append(others, p)
		}
	}
	slices.SortStableFunc(named, newer)
	slices.SortStableFunc(others, func(a, b *Package) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return newer(a, b)
	})
	// A build in both the release and the updates repository is one
	// candidate: the first listed (the release's), as before.
	return slices.CompactFunc(append(named, others...), func(a, b *Package) bool {
		return a.Name == b.Name && a.Arch == b.Arch && newer(a, b) == 0 && a.Release == b.Release
	}), nil
}
