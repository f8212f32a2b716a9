// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"fmt"
	"strings"

	"github.com/google/rpmpack"
)

// relationFor returns a Relation carrying op's sense bits (rpmpack's
// sense type is unexported, so go through its constants).
func relationFor(op string) (rpmpack.Relation, bool) {
	switch op {
	case "<":
		return rpmpack.Relation{Sense: rpmpack.SenseLess}, true
	case "<=":
		return rpmpack.Relation{Sense: rpmpack.SenseLess | rpmpack.SenseEqual}, true
	case "=":
		return rpmpack.Relation{Sense: rpmpack.SenseEqual}, true
	case ">=":
		return rpmpack.Relation{Sense: rpmpack.SenseGreater | rpmpack.SenseEqual}, true
	case ">":
		return rpmpack.Relation{Sense: rpmpack.SenseGreater}, true
	}
	return rpmpack.Relation{}, false
}

// parseRelation parses "name" or "name OP version". rpmpack's own parser
// accepts "x != 3" silently as something else, so parse strictly here.
func parseRelation(s string) (*rpmpack.Relation, error) {
	f := strings.Fields(s)
	switch len(f) {
	case 1:
		return &rpmpack.Relation{Name: f[0]}, nil
	case 3:
		rel, ok := relationFor(f[1])
		if !ok {
			return nil, fmt.Errorf("relation %q: unknown operator %q (want one of < <= = >= >)", s, f[1])
		}
		rel.Name, rel.Version = f[0], f[2]
		return &rel, nil
	}
	return nil, fmt.Errorf("relation %q: want \"name\" or \"name OP version\"", s)
}

func mustRelations(list []string) rpmpack.Relations {
	var rels rpmpack.Relations
	for _, s := range list {
		r, err := parseRelation(s)
		if err != nil {
			panic("rpmpkg: relation not validated: " + err.Error())
		}
		rels = append(rels, r)
	}
	return rels
}
