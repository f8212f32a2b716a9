// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrBadDependency: a requirement that is neither a relation nor a
// well-formed rich (boolean) dependency.
var ErrBadDependency = errors.New("photontoolchain: malformed dependency")

// Boolean operators of rich dependencies (rpm 4.13 and later). createrepo
// writes such a requirement whole into a primary list entry's name
// ("(coreutils or coreutils-selinux or toybox)", as Photon's systemd
// requires), with no flags.
const (
	OpAnd     = "and"
	OpOr      = "or"
	OpIf      = "if"
	OpUnless  = "unless"
	OpWith    = "with"
	OpWithout = "without"
)

// Dep is a requirement: a plain relation (Op "") or a boolean operator
// over operands. and, or and with take two or more; without two; if and
// unless two, or three with an else branch (Args[2]).
type Dep struct {
	Op   string
	Rel  Relation
	Args []*Dep
}

// Bounds on rich dependencies, which come from repository metadata:
// nesting is recursion here, so it is limited well above what packages
// write (two or three levels) and far below what would strain the stack.
const (
	maxDepDepth = 32
	maxDepLen   = 16 << 10
)

// ParseDep reads a requirement as rpm writes it: "name [OP version]", or a
// rich dependency in parentheses, e.g. "(gcc >= 12 or (clang if llvm))".
// One group chains one operator: "(a and b and c)" is allowed, "(a and b
// or c)" is not (rpm refuses it too).
func ParseDep(s string) (*Dep, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "(") {
		r, err := ParseRelation(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadDependency, err)
		}
		return &Dep{Rel: r}, nil
	}
	if len(t) > maxDepLen {
		return nil, fmt.Errorf("%w: a rich dependency of %d bytes (at most %d)", ErrBadDependency, len(t), maxDepLen)
	}
	p := &depParser{s: t}
	d, err := p.group(1)
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = p.errorf("text after the closing parenthesis")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadDependency, truncate(t, 200), err)
	}
	return d, nil
}

// String is the dependency as rpm writes it.
func (d *Dep) String() string {
	if d.Op == "" {
		return d.Rel.String()
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, a := range d.Args {
		if i > 0 {
			op := d.Op
			if i == 2 && (op == OpIf || op == OpUnless) {
				op = "else"
			}
			b.WriteString(" " + op + " ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// firstName is the name of the dependency's first relation, by which
// candidates that bear it are preferred.
func (d *Dep) firstName() string {
	for d.Op != "" {
		d = d.Args[0]
	}
	return d.Rel.Name
}

type depParser struct {
	s string
	i int
}

func (p *depParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: "+format, append([]any{p.i}, args...)...)
}

func (p *depParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// isSpace is ASCII white space; a name or version holding other white
// space (which ParseRelation would split at) is refused.
func isSpace(c byte) bool { return strings.IndexByte(" \t\n\v\f\r", c) >= 0 }

// group reads "(" operand [op operand ...] ")" at nesting depth.
func (p *depParser) group(depth int) (*Dep, error) {
	if depth > maxDepDepth {
		return nil, p.errorf("nested deeper than %d levels", maxDepDepth)
	}
	p.i++ // the "(" the caller saw
	first, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	if p.close() {
		return first, nil // "(gcc >= 12)": one parenthesised relation
	}
	op := p.word()
	d := &Dep{Op: op, Args: []*Dep{first}}
	switch op {
	case OpAnd, OpOr, OpWith, OpWithout:
		for {
			next, err := p.operand(depth)
			if err != nil {
				return nil, err
			}
			d.Args = append(d.Args, next)
			if p.close() {
				break
			}
			if w := p.word(); w != op || op == OpWithout {
				return nil, p.errorf("%q after %q: parenthesise to mix operators", w, op)
			}
		}
	case OpIf, OpUnless:
		cond, err := p.operand(depth)
		if err != nil {
			return nil, err
		}
		d.Args = append(d.Args, cond)
		if !p.close() {
			if w := p.word(); w != "else" {
				return nil, p.errorf("%q where \"else\" or \")\" belongs", w)
			}
			alt, err := p.operand(depth)
			if err != nil {
				return nil, err
			}
			d.Args = append(d.Args, alt)
			if !p.close() {
				return nil, p.errorf("no \")\" after the else branch")
			}
		}
	case "":
		return nil, p.errorf("no operator or \")\"")
	default:
		return nil, p.errorf("unknown operator %q", op)
	}
	return d, nil
}

// close consumes a ")" after optional spaces.
func (p *depParser) close() bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		return true
	}
	return false
}

// word reads a run of letters.
func (p *depParser) word() string {
	p.space()
	j := p.i
	for p.i < len(p.s) && p.s[p.i] >= 'a' && p.s[p.i] <= 'z' {
		p.i++
	}
	return p.s[j:p.i]
}

var keywords = map[string]bool{OpAnd: true, OpOr: true, OpIf: true, OpUnless: true, OpWith: true, OpWithout: true, "else": true}

// operand reads a nested group or a relation "name [OP evr]". A name may
// hold balanced parentheses ("perl(File::Temp)",
// "libc.so.6(GLIBC_2.34)(64bit)").
func (p *depParser) operand(depth int) (*Dep, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		return p.group(depth + 1)
	}
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	if name == "" || keywords[name] {
		return nil, p.errorf("%q where a dependency belongs", name)
	}
	r := Relation{Name: name}
	save := p.i
	p.space()
	j := p.i
	for p.i < len(p.s) && strings.IndexByte("<=>", p.s[p.i]) >= 0 {
		p.i++
	}
	if p.i == j {
		p.i = save
		return &Dep{Rel: r}, nil
	}
	op := p.s[j:p.i]
	p.space()
	k := p.i
	for p.i < len(p.s) && !isSpace(p.s[p.i]) && p.s[p.i] != ')' && p.s[p.i] != '(' {
		p.i++
	}
	rel, err := ParseRelation(name + " " + op + " " + p.s[k:p.i])
	if err != nil {
		return nil, p.errorf("%w", err)
	}
	return &Dep{Rel: rel}, nil
}

// name reads a relation's name: up to a space or a ")" that closes no
// parenthesis of its own.
func (p *depParser) name() (string, error) {
	j, open := p.i, 0
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		if isSpace(c) || c == '<' || c == '=' || c == '>' {
			if open > 0 {
				return "", p.errorf("%q in a name's parentheses", c)
			}
			break
		}
		if c == '(' {
			open++
		} else if c == ')' {
			if open == 0 {
				break
			}
			open--
		}
		if open > maxDepDepth {
			return "", p.errorf("a name nests parentheses deeper than %d levels", maxDepDepth)
		}
	}
	if open > 0 {
		return "", p.errorf("unbalanced parenthesis in a name")
	}
	if name := p.s[j:p.i]; !strings.ContainsFunc(name, unicode.IsSpace) {
		return name, nil
	}
	return "", p.errorf("white space in a name")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
