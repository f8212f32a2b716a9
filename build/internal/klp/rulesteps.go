// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"path"
	"slices"
	"strings"
)

// ruleSteps returns the commands kbuild ran on target right after
// compile, as part of the same make rule, that target's .cmd file does
// not hold. Kernels before 5.19 or so (5.10 among them) run objtool on a
// compiled object, and the modversions and recordmcount passes, as
// separate steps of rule_cc_o_c, while the .cmd file records the compile
// alone; later kernels fold objtool into the compile's own command.
// A replay without those steps gives an object objtool never saw. Only
// the steps that rewrite the object are kept (rewritesObject).
//
// log is make's output with V=1, where kbuild prints each command it runs
// indented by two blanks (some commands add their own). The steps are the printed commands that follow
// compile's and name target, up to the first printed command that does
// not or that is one of next, the commands of the targets make builds
// later: make runs a rule's commands one after another. Commands that
// only append to target's .cmd file (6.1's objtool dependency and the
// #SYMVER lines of the symbols an object exports, which the replay
// writes itself) are left out. None is returned when compile is not in
// log. What this misses shows in the recipe's check: the replay's module
// differs from make's.
func ruleSteps(log, compile, target string, next []string) []string {
	lines := strings.Split(log, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSuffix(l, "\r") == "  "+compile {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil
	}
	dotCmd := target[:strings.LastIndex(target, "/")+1] + "." + target[strings.LastIndex(target, "/")+1:] + ".cmd"
	var out []string
	for _, l := range lines[start:] {
		c, ok := strings.CutPrefix(strings.TrimSuffix(l, "\r"), "  ")
		if !ok || strings.TrimSpace(c) == "" {
			continue // a tool's message, not a printed command
		}
		// 5.10's objtool command starts with a blank of its own.
		c = strings.TrimLeft(c, " \t")
		if strings.Contains(c, dotCmd) {
			continue
		}
		if slices.Contains(next, c) || !namesFile(c, target) {
			break
		}
		if rewritesObject(c) {
			out = append(out, c)
		}
	}
	return out
}

// rewritesObject reports whether c, a step of a compile rule, is one of
// those that rewrite the object: objtool (orc generate adds the unwind
// tables, return and retpoline sites), recordmcount, and the modversions
// relink of an object that exports symbols. The others only check
// (check-local-export, sparse, kernel-doc) and need the variables make
// exports (6.1's check-local-export runs $NM): a replay leaves them out.
func rewritesObject(c string) bool {
	f := strings.Fields(c)
	if len(f) == 0 {
		return false
	}
	switch path.Base(f[0]) {
	case "objtool", "recordmcount":
		return true
	case "perl":
		return len(f) > 1 && path.Base(f[1]) == "recordmcount.pl"
	case "if":
		return strings.Contains(c, "__ksymtab") && strings.Contains(c, "genksyms")
	}
	return false
}

// namesFile reports whether the shell command c holds path as a word of
// its own, not as the start of a longer name (target.cmd, target.o).
func namesFile(c, path string) bool {
	for rest := c; ; {
		i := strings.Index(rest, path)
		if i < 0 {
			return false
		}
		end := i + len(path)
		if end == len(rest) || strings.ContainsRune(" \t;|&)'\":", rune(rest[end])) {
			return true
		}
		rest = rest[end:]
	}
}
