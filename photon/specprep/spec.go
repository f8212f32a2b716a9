// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/beneath"
)

// ErrUnsupportedSpec is returned for a spec construct outside the subset of
// RPM spec syntax that klpkit interprets (the one Photon's kernel specs use).
var ErrUnsupportedSpec = errors.New("photon: spec construct outside the supported subset")

// SpecError names the spec line klpkit cannot interpret and why.
type SpecError struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("photon: %s:%d: %s (line %q); klpkit interprets only the spec subset Photon's kernel specs use", e.File, e.Line, e.Reason, e.Text)
}

func (e *SpecError) Unwrap() error { return ErrUnsupportedSpec }

// SpecOptions sets the build environment a spec is read in.
type SpecOptions struct {
	// Arch is %{_arch}; "" means x86_64.
	Arch string
	// Dist is %{dist}, e.g. ".ph4".
	Dist string
	// Defines are extra macros, like rpmbuild --define (kat_build, fips, ...).
	Defines map[string]string
	// SourceDir is where %{SOURCEn} and %{PATCHn} point.
	SourceDir string
}

// Spec is what klpkit needs from a kernel spec: its identity, its numbered
// sources and patches, and its %prep script with conditionals resolved and
// macros expanded.
type Spec struct {
	File                   string
	Name, Version, Release string
	// Sources and Patches map numbers to file names (the base name of the
	// tag's URL).
	Sources, Patches map[int]string
	// Prep holds the %prep lines in order, continuation lines joined.
	Prep []SpecLine
	// RawPatches maps the PatchN: lines of the spec text itself, regardless
	// of conditionals, as Photon's ApplyPatch.inc helper reads them (grep).
	RawPatches map[int]string
	// ConfigIncludes are the files %prep and %build pull in with %include
	// (conditions resolved, paths expanded), e.g. Photon's
	// modify_kernel_configs.inc, which edits .config before the kernel is
	// built, or check_for_config_applicability.inc, which only checks it.
	// Preamble includes (patch lists such as preempt_rt.patches) are read
	// while parsing and become part of the spec.
	ConfigIncludes []SpecInclude
}

// SpecInclude is one %include of %prep or %build.
type SpecInclude struct {
	Line    int    `json:"line"`
	Section string `json:"section"` // "%prep" or "%build"
	File    string `json:"file"`    // expanded path
}

// maxIncludeDepth bounds nested preamble %include files.
const maxIncludeDepth = 4

// SpecLine is one logical line of a spec with its first line number.
type SpecLine struct {
	Line int    `json:"line"`
	Text string `json:"text"`
}

// maxSpecSize bounds the spec file (Photon's largest is under 200 kB).
const maxSpecSize = 8 << 20

var specSections = map[string]bool{
	"%prep": true, "%build": true, "%install": true, "%check": true, "%clean": true,
	"%files": true, "%package": true, "%description": true, "%changelog": true,
	"%pre": true, "%post": true, "%preun": true, "%postun": true, "%pretrans": true,
	"%posttrans": true, "%triggerin": true, "%triggerun": true, "%triggerpostun": true,
	"%triggerprein": true, "%filetriggerin": true, "%filetriggerun": true,
	"%transfiletriggerin": true, "%transfiletriggerun": true, "%transfiletriggerpostun": true,
	"%verifyscript": true, "%generate_buildrequires": true, "%conf": true, "%sepolicy": true,
}

type condFrame struct {
	active bool // lines in the current branch are kept
	taken  bool // some branch of this %if was already chosen (or the parent is inactive)
}

type specParser struct {
	file    string
	opts    SpecOptions
	macros  *macroSet
	spec    *Spec
	section string
	conds   []condFrame
	sawPrep bool
}

// ParseSpec reads a spec file as rpmbuild would for %prep on opts.Arch.
func ParseSpec(file string, data []byte, opts SpecOptions) (*Spec, error) {
	if len(data) > maxSpecSize {
		return nil, &SpecError{File: file, Reason: fmt.Sprintf("spec is larger than %d bytes", maxSpecSize)}
	}
	if opts.Arch == "" {
		opts.Arch = "x86_64"
	}
	p := &specParser{
		file: file, opts: opts, macros: newMacroSet(), section: "preamble",
		spec: &Spec{File: file, Sources: map[int]string{}, Patches: map[int]string{}},
	}
	for name, v := range map[string]string{
		"_arch": opts.Arch, "_target_cpu": opts.Arch, "dist": opts.Dist, "nil": "",
		"_smp_mflags": "", "_sourcedir": opts.SourceDir,
		// rpm's build macros as Photon's specs use them in %prep.
		"make_build": "make", "__make": "make",
		"_host": opts.Arch + "-unknown-linux-gnu", "_build": opts.Arch + "-unknown-linux-gnu",
	} {
		p.macros.define(name, v)
	}
	for name, v := range opts.Defines {
		p.macros.define(name, v)
	}
	for _, l := range logicalLines(string(data)) {
		if err := p.line(l, 0); err != nil {
			return nil, err
		}
	}
	p.spec.RawPatches = rawPatches(string(data))
	if len(p.conds) > 0 {
		return nil, &SpecError{File: file, Reason: "missing %endif at end of file"}
	}
	s := p.spec
	switch {
	case s.Name == "" || s.Version == "" || s.Release == "":
		return nil, &SpecError{File: file, Reason: "spec lacks Name, Version or Release"}
	case !p.sawPrep:
		return nil, &SpecError{File: file, Reason: "spec has no %prep section"}
	}
	return s, nil
}

var rawPatchRE = regexp.MustCompile(`(?m)^Patch([0-9]+):[ \t]*(\S+)`)

// rawPatches reads "PatchN: file" lines from the spec text as grep would.
func rawPatches(text string) map[int]string {
	out := map[int]string{}
	for _, m := range rawPatchRE.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			out[n] = path.Base(m[2])
		}
	}
	return out
}

// logicalLines joins backslash-continued lines.
func logicalLines(text string) []SpecLine {
	raw := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []SpecLine
	for i := 0; i < len(raw); i++ {
		start, line := i+1, raw[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(raw) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(raw[i])
		}
		out = append(out, SpecLine{Line: start, Text: line})
	}
	return out
}

func (p *specParser) fail(l SpecLine, format string, args ...any) error {
	return &SpecError{File: p.file, Line: l.Line, Text: strings.TrimSpace(l.Text), Reason: fmt.Sprintf(format, args...)}
}

func (p *specParser) active() bool {
	return len(p.conds) == 0 || p.conds[len(p.conds)-1].active
}

// relevant sections are the ones interpreted; the rest is only scanned for
// conditionals and section headers.
func (p *specParser) relevant() bool { return p.section == "preamble" || p.section == "%prep" }

func (p *specParser) line(l SpecLine, depth int) error {
	t := strings.TrimSpace(l.Text)
	word := firstWord(t)
	rest := strings.TrimSpace(strings.TrimPrefix(t, word))
	if handled, err := p.conditional(l, word, rest); handled || err != nil {
		return err
	}
	if !p.active() {
		return nil
	}
	if specSections[word] {
		p.section = word
		if word == "%prep" {
			if p.sawPrep {
				return p.fail(l, "second %%prep section")
			}
			p.sawPrep = true
		}
		return nil
	}
	if word == "%include" && (p.section == "%build" || p.section == "%prep") {
		file, err := p.macros.expand(rest)
		if err != nil {
			return p.fail(l, "%v", err)
		}
		file = strings.TrimSpace(file)
		p.spec.ConfigIncludes = append(p.spec.ConfigIncludes, SpecInclude{Line: l.Line, Section: p.section, File: file})
		if p.section == "%prep" {
			// The runner needs it in order too (helpers such as ApplyPatch.inc).
			p.spec.Prep = append(p.spec.Prep, SpecLine{Line: l.Line, Text: "%include " + file})
		}
		return nil
	}
	if !p.relevant() {
		return nil
	}
	switch word {
	case "%define", "%global":
		return p.define(l, word, rest)
	case "%undefine":
		p.macros.undefine(rest)
		return nil
	case "%include":
		return p.include(l, rest, depth)
	}
	if p.section == "%prep" {
		if t == "" || strings.HasPrefix(t, "#") {
			return nil
		}
		text, err := p.macros.expand(t)
		if err != nil {
			return p.fail(l, "%v", err)
		}
		if strings.TrimSpace(text) != "" {
			p.spec.Prep = append(p.spec.Prep, SpecLine{Line: l.Line, Text: strings.TrimSpace(text)})
		}
		return nil
	}
	return p.preamble(l, t, depth)
}

func (p *specParser) conditional(l SpecLine, word, rest string) (bool, error) {
	switch word {
	case "%if", "%ifarch", "%ifnarch", "%ifos", "%ifnos":
		if !p.active() {
			p.conds = append(p.conds, condFrame{taken: true})
			return true, nil
		}
		ok, err := p.test(word, rest)
		if err != nil {
			if p.relevant() {
				return true, p.fail(l, "%v", err)
			}
			// Outside the interpreted sections: skip the whole construct.
			p.conds = append(p.conds, condFrame{taken: true})
			return true, nil
		}
		p.conds = append(p.conds, condFrame{active: ok, taken: ok})
	case "%elif", "%elifarch", "%elifnarch":
		if len(p.conds) == 0 {
			return true, p.fail(l, "%s without %%if", word)
		}
		f := &p.conds[len(p.conds)-1]
		if f.taken {
			f.active = false
			return true, nil
		}
		ok, err := p.test(strings.Replace(word, "%elif", "%if", 1), rest)
		if err != nil {
			return true, p.fail(l, "%v", err)
		}
		f.active, f.taken = ok, ok
	case "%else":
		if len(p.conds) == 0 {
			return true, p.fail(l, "%%else without %%if")
		}
		f := &p.conds[len(p.conds)-1]
		f.active = !f.taken
		f.taken = true
	case "%endif":
		if len(p.conds) == 0 {
			return true, p.fail(l, "%%endif without %%if")
		}
		p.conds = p.conds[:len(p.conds)-1]
	default:
		return false, nil
	}
	return true, nil
}

func (p *specParser) test(word, rest string) (bool, error) {
	expanded, err := p.macros.expand(rest)
	if err != nil {
		return false, err
	}
	switch word {
	case "%if":
		return evalCondition(expanded)
	case "%ifarch", "%ifnarch":
		match := false
		for _, a := range strings.Fields(expanded) {
			match = match || a == p.opts.Arch
		}
		return match == (word == "%ifarch"), nil
	default: // %ifos, %ifnos
		match := false
		for _, o := range strings.Fields(expanded) {
			match = match || o == "linux"
		}
		return match == (word == "%ifos"), nil
	}
}

func (p *specParser) define(l SpecLine, word, rest string) error {
	name := firstWord(rest)
	body := strings.TrimSpace(strings.TrimPrefix(rest, name))
	if strings.HasSuffix(name, ")") { // parametric macro: name(opts)
		return p.fail(l, "parametric macros are not supported")
	}
	if !isMacroName(name) {
		return p.fail(l, "bad macro name %q", name)
	}
	if word == "%global" {
		v, err := p.macros.expand(body)
		if err != nil {
			return p.fail(l, "%v", err)
		}
		body = v
	}
	p.macros.define(name, body)
	return nil
}

// include reads a preamble %include file from the source directory and
// parses its lines in place, as rpm does.
func (p *specParser) include(l SpecLine, rest string, depth int) error {
	if depth >= maxIncludeDepth {
		return p.fail(l, "%%include nested deeper than %d levels", maxIncludeDepth)
	}
	file, err := p.macros.expand(rest)
	if err != nil {
		return p.fail(l, "%v", err)
	}
	file = filepath.Clean(strings.TrimSpace(file))
	if p.opts.SourceDir == "" || filepath.Dir(file) != filepath.Clean(p.opts.SourceDir) {
		return p.fail(l, "%%include of %s, which is not a file of the source RPM", file)
	}
	// Read beneath the source directory: a link out would put a host
	// file's lines into the errors below.
	data, _, err := beneath.ReadTreeFile(filepath.Dir(file), filepath.Base(file))
	if errors.Is(err, beneath.ErrEscapes) {
		return p.fail(l, "%%include: %s leads out of the source RPM", filepath.Base(file))
	}
	if err != nil {
		return p.fail(l, "%%include: %s is not in the source RPM", filepath.Base(file))
	}
	if len(data) > maxSpecSize {
		return p.fail(l, "%%include: %s is larger than %d bytes", filepath.Base(file), maxSpecSize)
	}
	for _, il := range logicalLines(string(data)) {
		// Errors name the including line; the included file has no spec of its own.
		if err := p.line(SpecLine{Line: l.Line, Text: il.Text}, depth+1); err != nil {
			var se *SpecError
			if errors.As(err, &se) {
				se.Reason = fmt.Sprintf("in %s line %d: %s", filepath.Base(file), il.Line, se.Reason)
			}
			return err
		}
	}
	return nil
}

// preamble handles tag lines and %{...} lines outside sections.
func (p *specParser) preamble(l SpecLine, t string, depth int) error {
	if t == "" || strings.HasPrefix(t, "#") {
		return nil
	}
	if strings.HasPrefix(t, "%{") && depth < maxIncludeDepth {
		// e.g. %{!?python3_sitelib: %define python3_sitelib ...}
		text, err := p.macros.expand(t)
		if err != nil {
			return p.fail(l, "%v", err)
		}
		return p.line(SpecLine{Line: l.Line, Text: text}, depth+1)
	}
	if strings.HasPrefix(t, "%") {
		return p.fail(l, "directive %q is not supported", strings.Fields(t)[0])
	}
	tag, value, ok := strings.Cut(t, ":")
	if !ok || strings.ContainsAny(tag, " \t") && !strings.Contains(tag, "(") {
		return p.fail(l, "not a tag line")
	}
	value = strings.TrimSpace(value)
	lower := strings.ToLower(tag)
	switch {
	case lower == "name" || lower == "version" || lower == "release":
		v, err := p.macros.expand(value)
		if err != nil {
			return p.fail(l, "%v", err)
		}
		switch lower {
		case "name":
			p.spec.Name = v
		case "version":
			p.spec.Version = v
		default:
			p.spec.Release = v
		}
		p.macros.define(lower, v)
	case strings.HasPrefix(lower, "source") && isDigits(lower[len("source"):]):
		return p.numbered(l, "SOURCE", lower[len("source"):], value, p.spec.Sources)
	case strings.HasPrefix(lower, "patch") && isDigits(lower[len("patch"):]):
		if lower == "patch" {
			return p.fail(l, "unnumbered Patch tags are not supported")
		}
		return p.numbered(l, "PATCH", lower[len("patch"):], value, p.spec.Patches)
	}
	return nil
}

// firstWord returns s up to its first blank.
func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *specParser) numbered(l SpecLine, macro, num, value string, into map[int]string) error {
	n := 0
	if num != "" {
		var err error
		if n, err = strconv.Atoi(num); err != nil || n > 1<<20 {
			return p.fail(l, "bad %s number %q", strings.ToLower(macro), num)
		}
	}
	v, err := p.macros.expand(value)
	if err != nil {
		return p.fail(l, "%v", err)
	}
	base := path.Base(strings.TrimSpace(v))
	if base == "" || base == "." || base == "/" || base == ".." || strings.ContainsAny(base, "\\\x00") {
		return p.fail(l, "bad file name %q", v)
	}
	if _, dup := into[n]; dup {
		return p.fail(l, "%s%d defined twice", strings.ToLower(macro), n)
	}
	into[n] = base
	p.macros.define(fmt.Sprintf("%s%d", macro, n), filepath.Join(p.opts.SourceDir, base))
	if n == 0 && macro == "SOURCE" {
		p.macros.define("SOURCE", filepath.Join(p.opts.SourceDir, base))
	}
	return nil
}
