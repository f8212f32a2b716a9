package photon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// applyConfigIncludes applies the %build includes that only edit .config
// (every command "sed -i 's/OLD/NEW/' .config", like Photon's
// modify_kernel_configs.inc) to config, in spec order. Includes that do
// anything else (such as check_for_config_applicability.inc, which only
// checks the config) do not change the config the kernel was built with and
// are skipped with a progress event.
func applyConfigIncludes(spec *Spec, sources string, config []byte, emit func(PrepareStep, string)) ([]byte, error) {
	for _, inc := range spec.BuildIncludes {
		file := filepath.Clean(inc.Text)
		if filepath.Dir(file) != filepath.Clean(sources) {
			return nil, &SpecError{File: spec.File, Line: inc.Line, Text: "%include " + inc.Text, Reason: "%include of a file outside the source RPM"}
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &SpecError{File: spec.File, Line: inc.Line, Text: "%include " + inc.Text, Reason: fmt.Sprintf("%s is not in the source RPM", filepath.Base(file))}
		}
		edits, ok := configEdits(string(data))
		if !ok {
			emit(StepConfig, "skipped %include "+filepath.Base(file)+": it does more than edit .config")
			continue
		}
		emit(StepConfig, "applied %include "+filepath.Base(file))
		for _, e := range edits {
			config = []byte(applySed(string(config), e))
		}
	}
	return config, nil
}

type sedEdit struct {
	old, repl string
	global    bool
}

// configEdits parses a script made only of "sed -i 's/A/B/' .config" lines.
func configEdits(script string) ([]sedEdit, bool) {
	var edits []sedEdit
	for _, l := range logicalLines(script) {
		t := strings.TrimSpace(l.Text)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		words, err := shellWords(t)
		if err != nil || len(words) != 4 || words[0] != "sed" || words[1] != "-i" || words[3] != ".config" {
			return nil, false
		}
		old, repl, global, err := parseSedSubst(words[2])
		if err != nil {
			return nil, false
		}
		edits = append(edits, sedEdit{old, repl, global})
	}
	return edits, len(edits) > 0
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
