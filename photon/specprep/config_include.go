// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/beneath"
)

// ApplyConfigIncludes applies to config (a kernel .config) the files
// spec's %prep and %build pull in with %include, in spec order; they are
// read from sources (the source RPM's directory):
//
//   - a file that only edits .config (every command "sed -i 's/OLD/NEW/'
//     .config", like Photon's modify_kernel_configs.inc) is applied to config;
//   - a file that only checks .config (echo, make olddefconfig, sed or diff
//     on .config, like check_for_config_applicability.inc) is skipped: kernelsrc.Prepare
//     writes .config itself and the build regenerates what olddefconfig makes;
//   - anything else is an error in %prep, and skipped in %build, whose other
//     steps (compiling, canister checks) the klpkit build does its own way.
//
// Each decision is reported to emit, if set, as a StepConfig event.
func ApplyConfigIncludes(spec *Spec, sources string, config []byte, emit func(PrepareStep, string)) ([]byte, error) {
	if emit == nil {
		emit = func(PrepareStep, string) {}
	}
	for _, inc := range spec.ConfigIncludes {
		file := filepath.Clean(inc.File)
		fail := func(reason string) error {
			return &SpecError{File: spec.File, Line: inc.Line, Text: "%include " + inc.File, Reason: reason}
		}
		if filepath.Dir(file) != filepath.Clean(sources) {
			return nil, fail("%include of a file outside the source RPM")
		}
		data, _, err := beneath.ReadTreeFile(sources, filepath.Base(file))
		if errors.Is(err, beneath.ErrEscapes) {
			return nil, fmt.Errorf("%w: %w", fail(fmt.Sprintf("%s leads out of the source RPM", filepath.Base(file))), err)
		}
		if err != nil {
			return nil, fail(fmt.Sprintf("%s is not in the source RPM", filepath.Base(file)))
		}
		name := filepath.Base(file)
		if isApplyPatchHelper(string(data)) {
			continue // used by %prep itself
		}
		if edits, ok := configEdits(string(data)); ok {
			emit(StepConfig, "applied %include "+name)
			for _, e := range edits {
				config = []byte(applySed(string(config), e))
			}
			continue
		}
		if inc.Section == "%prep" && !configCheckOnly(string(data)) {
			return nil, fail(fmt.Sprintf("%s in %%prep does more than edit or check .config", name))
		}
		emit(StepConfig, "skipped %include "+name+": it does more than edit .config")
	}
	return config, nil
}

type sedEdit struct {
	old, repl string
	global    bool
}

// scriptCommands splits a shell script into commands, skipping blank
// lines and comments; ok is false on shell syntax shellWords refuses.
func scriptCommands(script string) (cmds [][]string, ok bool) {
	for _, l := range logicalLines(script) {
		t := strings.TrimSpace(l.Text)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		words, err := shellWords(t)
		if err != nil || len(words) == 0 {
			return nil, false
		}
		cmds = append(cmds, words)
	}
	return cmds, true
}

// configEdits parses a script made only of "sed -i 's/A/B/' .config" lines.
func configEdits(script string) ([]sedEdit, bool) {
	cmds, ok := scriptCommands(script)
	if !ok {
		return nil, false
	}
	var edits []sedEdit
	for _, w := range cmds {
		if len(w) != 4 || w[0] != "sed" || w[1] != "-i" || w[3] != ".config" {
			return nil, false
		}
		old, repl, global, err := parseSedSubst(w[2])
		if err != nil {
			return nil, false
		}
		edits = append(edits, sedEdit{old, repl, global})
	}
	return edits, len(edits) > 0
}

// configCheckOnly reports a script that only looks at .config: echo,
// make [vars] olddefconfig, sed -i ... .config, diff of .config files.
func configCheckOnly(script string) bool {
	cmds, ok := scriptCommands(strings.ReplaceAll(script, "%{?_smp_mflags}", ""))
	if !ok || len(cmds) == 0 {
		return false
	}
	for _, w := range cmds {
		last := w[len(w)-1]
		switch {
		case w[0] == "echo":
		case w[0] == "make" && last == "olddefconfig":
		case w[0] == "sed" && len(w) == 4 && w[1] == "-i" && last == ".config":
		case w[0] == "diff" && strings.HasPrefix(last, ".config"):
		default:
			return false
		}
	}
	return true
}

// applySed performs a literal s/old/repl/[g] on every line of text.
func applySed(text string, e sedEdit) string {
	lines := strings.SplitAfter(text, "\n")
	for i, line := range lines {
		if e.global {
			lines[i] = strings.ReplaceAll(line, e.old, e.repl)
		} else {
			lines[i] = strings.Replace(line, e.old, e.repl, 1)
		}
	}
	return strings.Join(lines, "")
}
