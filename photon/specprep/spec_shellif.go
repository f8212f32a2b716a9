// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"regexp"
)

// shellIf is one level of "if [ A op B ]; then ... [else ...] fi" in %prep.
type shellIf struct {
	active bool // lines of the current branch run
	taken  bool // a branch ran already, or the parent is inactive
}

// Photon's 4.0 spec guards a cross-compile tweak with
// "if [ %{_host} != %{_build} ]; then": after expansion both sides are
// literals, so the test is decided here. Nothing else of shell syntax is.
var shellIfRE = regexp.MustCompile(`^if \[ ("?)([^ "]*)"? (!=|==|=) ("?)([^ "]*)"? \]; then$`)

func shellActive(ifs []shellIf) bool {
	return len(ifs) == 0 || ifs[len(ifs)-1].active
}

// shellConditional handles if/else/fi lines; handled is false for others.
func shellConditional(l SpecLine, ifs *[]shellIf) (handled bool, err error) {
	switch l.Text {
	case "else":
		if len(*ifs) == 0 {
			return true, fmt.Errorf("shell else without if")
		}
		f := &(*ifs)[len(*ifs)-1]
		f.active, f.taken = !f.taken, true
		return true, nil
	case "fi":
		if len(*ifs) == 0 {
			return true, fmt.Errorf("shell fi without if")
		}
		*ifs = (*ifs)[:len(*ifs)-1]
		return true, nil
	}
	if len(l.Text) < 3 || l.Text[:3] != "if " {
		return false, nil
	}
	if !shellActive(*ifs) {
		*ifs = append(*ifs, shellIf{taken: true})
		return true, nil
	}
	m := shellIfRE.FindStringSubmatch(l.Text)
	if m == nil {
		return true, fmt.Errorf("only \"if [ A != B ]; then\" with literal operands is supported")
	}
	equal := m[2] == m[5]
	ok := equal == (m[3] != "!=")
	*ifs = append(*ifs, shellIf{active: ok, taken: ok})
	return true, nil
}
