// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"strconv"
	"strings"
)

// evalCondition evaluates an expanded %if expression: integers, "strings",
// parentheses, !, unary -, * /, + -, comparisons, && and ||, as rpm does.
func evalCondition(expr string) (bool, error) {
	if len(expr) > maxConditionLen {
		return false, fmt.Errorf("%%if expression longer than %d bytes", maxConditionLen)
	}
	toks, err := tokenizeCond(expr)
	if err != nil {
		return false, err
	}
	p := &condParser{toks: toks}
	v, err := p.or()
	if err != nil {
		return false, fmt.Errorf("%%if %q: %w", expr, err)
	}
	if p.pos != len(p.toks) {
		return false, fmt.Errorf("%%if %q: unexpected %q", expr, p.toks[p.pos].text)
	}
	if v.isStr {
		return v.s != "", nil
	}
	return v.n != 0, nil
}

// maxConditionLen bounds expressions so that nesting depth stays small.
const maxConditionLen = 4096

type condToken struct {
	kind byte // 'n' number, 's' string, 'o' operator
	text string
}

func tokenizeCond(s string) ([]condToken, error) {
	var toks []condToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, condToken{'n', s[i:j]})
			i = j
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("%%if %q: unterminated string", s)
			}
			toks = append(toks, condToken{'s', s[i+1 : i+1+j]})
			i += j + 2
		default:
			op := ""
			for _, cand := range []string{"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "+", "-", "*", "/"} {
				if strings.HasPrefix(s[i:], cand) {
					op = cand
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("%%if %q: unsupported text at %q (only numbers, quoted strings and operators)", s, s[i:])
			}
			toks = append(toks, condToken{'o', op})
			i += len(op)
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("%%if with an empty expression")
	}
	return toks, nil
}

type condValue struct {
	isStr bool
	s     string
	n     int64
}

type condParser struct {
	toks []condToken
	pos  int
}

func (p *condParser) peekOp(ops ...string) (string, bool) {
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != 'o' {
		return "", false
	}
	for _, op := range ops {
		if p.toks[p.pos].text == op {
			return op, true
		}
	}
	return "", false
}

func truth(v condValue) bool {
	if v.isStr {
		return v.s != ""
	}
	return v.n != 0
}

func boolValue(b bool) condValue {
	if b {
		return condValue{n: 1}
	}
	return condValue{}
}

func (p *condParser) or() (condValue, error) {
	l, err := p.and()
	for err == nil {
		if _, ok := p.peekOp("||"); !ok {
			break
		}
		p.pos++
		var r condValue
		if r, err = p.and(); err == nil {
			l = boolValue(truth(l) || truth(r))
		}
	}
	return l, err
}

func (p *condParser) and() (condValue, error) {
	l, err := p.cmp()
	for err == nil {
		if _, ok := p.peekOp("&&"); !ok {
			break
		}
		p.pos++
		var r condValue
		if r, err = p.cmp(); err == nil {
			l = boolValue(truth(l) && truth(r))
		}
	}
	return l, err
}

func (p *condParser) cmp() (condValue, error) {
	l, err := p.add()
	for err == nil {
		op, ok := p.peekOp("==", "!=", "<=", ">=", "<", ">")
		if !ok {
			break
		}
		p.pos++
		var r condValue
		if r, err = p.add(); err != nil {
			break
		}
		if l.isStr != r.isStr {
			return l, fmt.Errorf("comparing a string with a number")
		}
		c := 0
		if l.isStr {
			c = strings.Compare(l.s, r.s)
		} else if l.n < r.n {
			c = -1
		} else if l.n > r.n {
			c = 1
		}
		l = boolValue(map[string]bool{"==": c == 0, "!=": c != 0, "<=": c <= 0, ">=": c >= 0, "<": c < 0, ">": c > 0}[op])
	}
	return l, err
}

func (p *condParser) add() (condValue, error) {
	l, err := p.mul()
	for err == nil {
		op, ok := p.peekOp("+", "-")
		if !ok {
			break
		}
		p.pos++
		var r condValue
		if r, err = p.mul(); err != nil {
			break
		}
		if l.isStr || r.isStr {
			return l, fmt.Errorf("arithmetic on a string")
		}
		if op == "+" {
			l.n += r.n
		} else {
			l.n -= r.n
		}
	}
	return l, err
}

func (p *condParser) mul() (condValue, error) {
	l, err := p.unary()
	for err == nil {
		op, ok := p.peekOp("*", "/")
		if !ok {
			break
		}
		p.pos++
		var r condValue
		if r, err = p.unary(); err != nil {
			break
		}
		if l.isStr || r.isStr {
			return l, fmt.Errorf("arithmetic on a string")
		}
		if op == "*" {
			l.n *= r.n
		} else {
			if r.n == 0 {
				return l, fmt.Errorf("division by zero")
			}
			l.n /= r.n
		}
	}
	return l, err
}

func (p *condParser) unary() (condValue, error) {
	if op, ok := p.peekOp("!", "-"); ok {
		p.pos++
		v, err := p.unary()
		if err != nil {
			return v, err
		}
		if op == "!" {
			return boolValue(!truth(v)), nil
		}
		if v.isStr {
			return v, fmt.Errorf("negating a string")
		}
		return condValue{n: -v.n}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (condValue, error) {
	if p.pos >= len(p.toks) {
		return condValue{}, fmt.Errorf("expression ends too early")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 'n':
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return condValue{}, fmt.Errorf("number %q: %w", t.text, err)
		}
		return condValue{n: n}, nil
	case 's':
		return condValue{isStr: true, s: t.text}, nil
	}
	if t.text == "(" {
		v, err := p.or()
		if err != nil {
			return v, err
		}
		if _, ok := p.peekOp(")"); !ok {
			return v, fmt.Errorf("missing )")
		}
		p.pos++
		return v, nil
	}
	return condValue{}, fmt.Errorf("unexpected %q", t.text)
}
