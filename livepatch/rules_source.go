// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"regexp"
	"strings"
)

// sideView is a scanned file side: the whole file (with a tree) or one
// hunk's old or new lines (without). first is the file line of index 0.
type sideView struct {
	scan  *cScanner
	first int
}

func (v *sideView) item(idx int) *cItem {
	if idx < 0 || idx >= len(v.scan.info) || v.scan.info[idx].item < 0 {
		return nil
	}
	return &v.scan.items[v.scan.info[idx].item]
}

// hunkView places one hunk in the scanned sides.
type hunkView struct {
	h                  *Hunk
	old, new           *sideView
	oldStart, newStart int // scan index of the hunk's first old/new line
}

// changedLine is one '-' or '+' line with what the scanner knows of it.
type changedLine struct {
	kind byte
	line int // 1-based line in its side's file
	idx  int // index in view.scan
	view *sideView
	hunk int
}

func (c *fileCheck) hunkViews() []hunkView {
	var out []hunkView
	if c.before != nil {
		old := &sideView{scan: scanC(c.before.lines, nil), first: 1}
		nw := &sideView{scan: scanC(c.after.lines, nil), first: 1}
		for i, h := range c.f.Hunks {
			r := c.results[i]
			out = append(out, hunkView{h: h, old: old, new: nw, oldStart: r.At - 1, newStart: r.NewAt - 1})
		}
		return out
	}
	for _, h := range c.f.Hunks {
		start := enclosingFromSection(h.Section)
		old := &sideView{scan: scanC(h.OldSide(), start), first: max(h.OldStart, 1)}
		nw := &sideView{scan: scanC(h.NewSide(), start), first: max(h.NewStart, 1)}
		out = append(out, hunkView{h: h, old: old, new: nw})
	}
	return out
}

// changedLines lists the hunk's changed lines and reports whether its
// code (comments removed, spaces folded) differs between the sides.
func (hv hunkView) changedLines(n int) ([]changedLine, bool) {
	var out []changedLine
	var oldCode, newCode []string
	oi, ni := hv.oldStart, hv.newStart
	for _, l := range hv.h.Lines {
		switch l.Kind {
		case ' ':
			oldCode = append(oldCode, codeAt(hv.old, oi))
			newCode = append(newCode, codeAt(hv.new, ni))
			oi, ni = oi+1, ni+1
		case '-':
			out = append(out, changedLine{kind: '-', line: hv.old.first + oi, idx: oi, view: hv.old, hunk: n})
			oldCode = append(oldCode, codeAt(hv.old, oi))
			oi++
		case '+':
			out = append(out, changedLine{kind: '+', line: hv.new.first + ni, idx: ni, view: hv.new, hunk: n})
			newCode = append(newCode, codeAt(hv.new, ni))
			ni++
		}
	}
	return out, foldCode(oldCode) != foldCode(newCode)
}

// dropUnchangedCode removes changed lines whose code (comments removed,
// spaces folded) reappears on the other side of the same hunk: comment
// edits, re-indentation and moved lines are not code changes.
func dropUnchangedCode(lines []changedLine) []changedLine {
	count := map[string]int{}
	fold := func(cl changedLine) string { return foldCode([]string{codeAt(cl.view, cl.idx)}) }
	for _, cl := range lines {
		if cl.kind == '+' {
			count[fold(cl)]++
		}
	}
	var removedKept []changedLine
	matched := map[string]int{}
	for _, cl := range lines {
		if cl.kind != '-' {
			continue
		}
		if k := fold(cl); count[k] > matched[k] {
			matched[k]++
			continue
		}
		removedKept = append(removedKept, cl)
	}
	out := removedKept
	for _, cl := range lines {
		if cl.kind != '+' {
			continue
		}
		if k := fold(cl); matched[k] > 0 {
			matched[k]--
			continue
		}
		out = append(out, cl)
	}
	return out
}

// first is 1 for whole-file views; the hunk-local views index from 0.
func codeAt(v *sideView, idx int) string {
	if idx < 0 || idx >= len(v.scan.info) {
		return ""
	}
	return v.scan.info[idx].code
}

func foldCode(lines []string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(strings.Join(lines, " "), " "))
}

var (
	initFunc     = regexp.MustCompile(`\b__(init|exit|meminit|cpuinit)\b`)
	initData     = regexp.MustCompile(`\b__(initdata|initconst|exitdata|meminitdata|initrodata|init_or_module)\b`)
	initRegister = regexp.MustCompile(`^(module_init|module_exit|\w*_initcall\w*|__setup|early_param|core_param|__initcall|__exitcall)\(`)
	staticLocal  = regexp.MustCompile(`^\s*static\s+(?:const\s+)?[A-Za-z_]`)
	onceWarn     = regexp.MustCompile(`\b(pr_\w+_once|printk_once|printk_deferred_once|dev_\w+_once|netdev_\w+_once|net_\w+_once|WARN_ONCE|WARN_ON_ONCE|WARN_TAINT_ONCE|DO_ONCE_LITE\w*)\s*\(`)
	onceKey      = regexp.MustCompile(`\b(DO_ONCE|DO_ONCE_SLEEPABLE|get_random_once\w*|net_get_random_once\w*)\s*\(`)
	inlineKw     = regexp.MustCompile(`\binline\b`)
	notraceKw    = regexp.MustCompile(`\bnotrace\b`)
	staticKw     = regexp.MustCompile(`^(\w+\s+)*static\b`)
)

// checkSource judges each changed line of a .c or .h file by where it is.
func (c *fileCheck) checkSource() {
	views := c.hunkViews()
	var all, raw []changedLine
	for i, hv := range views {
		lines, codeChanged := hv.changedLines(i)
		if codeChanged {
			c.v.codeChanged = true
		}
		raw = append(raw, lines...)
		all = append(all, dropUnchangedCode(lines)...)
	}
	c.newTypes = addedTypes(views, raw)
	for _, hv := range views {
		for _, it := range hv.new.scan.items {
			if strings.HasPrefix(it.name, "KPATCH_SYSCALL_DEFINE") {
				c.kpatchSyscall = true
			}
		}
	}
	oldData, newData := dataNames(views, false), dataNames(views, true)
	c.oldFuncs = itemNames(views, itemFunction)
	for _, cl := range all {
		c.checkLine(cl, oldData, newData)
	}
	c.checkLineShift(views, all)
	if c.changesLineCount() {
		c.v.shifted = append(c.v.shifted, c.path)
	}
}

// changesLineCount reports a file diff that adds and removes different
// numbers of lines: everything after it moves to other line numbers.
func (c *fileCheck) changesLineCount() bool {
	delta := 0
	for _, h := range c.f.Hunks {
		for _, l := range h.Lines {
			switch l.Kind {
			case '+':
				delta++
			case '-':
				delta--
			}
		}
		if delta != 0 {
			return true
		}
	}
	return false
}

// itemNames collects the names of old-side items of one kind.
func itemNames(views []hunkView, kind itemKind) map[string]bool {
	out := map[string]bool{}
	for _, hv := range views {
		for _, it := range hv.old.scan.items {
			if it.kind == kind {
				out[it.name] = true
			}
		}
	}
	return out
}

func dataNames(views []hunkView, newSide bool) map[string]bool {
	out := map[string]bool{}
	for _, hv := range views {
		v := hv.old
		if newSide {
			v = hv.new
		}
		for _, it := range v.scan.items {
			if it.kind == itemData {
				out[it.name] = true
			}
		}
	}
	return out
}

func (c *fileCheck) checkLine(cl changedLine, oldData, newData map[string]bool) {
	info := cl.view.scan.info[cl.idx]
	if info.code == "" {
		return // blank or comment
	}
	if cl.kind == '+' {
		c.checkOnce(cl, info.code)
	}
	it := cl.view.item(cl.idx)
	if it == nil {
		return
	}
	key := fmt.Sprintf("%d:%s", it.kind, it.name)
	switch it.kind {
	case itemFunction:
		c.checkFunction(cl, it, info, key)
	case itemType:
		c.checkType(cl, it, key)
	case itemData:
		c.checkData(cl, it, key, oldData, newData)
	case itemPrototype, itemExtern:
		if c.isHeader() {
			c.finding(RuleHeaderPrototype, SeverityWarning, cl.line, key, fmt.Sprintf(
				"changes the declaration of %s: objects that are not rebuilt still call it with the old prototype, and an exported function's callers in other modules keep the old ABI; keep exported signatures unchanged (add a new function instead)", it.name))
		}
	case itemMacro:
		if c.isHeader() {
			c.finding(RuleHeaderMacro, SeverityWarning, cl.line, key, fmt.Sprintf(
				"changes macro %s in a header: every object that uses it must be rebuilt and every function using it gets patched; check the object list, and that no data layout depends on the macro", it.name))
		}
	case itemRegistration:
		if initRegister.MatchString(it.header) {
			c.finding(RuleInitCode, SeverityError, cl.line, fmt.Sprint("registration@", cl.hunk), fmt.Sprintf(
				"changes %s: init and exit registrations ran at boot or module load and are never re-run by a live patch; do the work from a klp pre_patch/post_patch callback instead", it.name))
		}
	}
}

func (c *fileCheck) checkOnce(cl changedLine, code string) {
	if m := onceKey.FindStringSubmatch(code); m != nil {
		c.finding(RuleOnceStaticKey, SeverityError, cl.line, "", fmt.Sprintf(
			"adds %s, which defines a static key in the patch module; jump labels on a module's own key cannot be live patched; use a plain static bool under a lock, or a shadow variable", m[1]))
		return
	}
	if m := onceWarn.FindStringSubmatch(code); m != nil {
		c.finding(RuleOnceMacro, SeverityWarning, cl.line, fmt.Sprint(cl.line), fmt.Sprintf(
			"adds %s: its 'already done' flag is new data in the patch module, so it fires once more after the patch loads even if it fired before (older kpatch-build refused it: \"data section .data.once selected for inclusion\"); use a plain printk or rate limiting if that matters", m[1]))
	}
}

func (c *fileCheck) checkFunction(cl changedLine, it *cItem, info lineInfo, key string) {
	h := it.header
	if strings.HasPrefix(it.name, "KPATCH_SYSCALL_DEFINE") || (syscallDef.MatchString(it.name) && cl.kind == '-' && c.kpatchSyscall) {
		return // the patch already uses kpatch's syscall macro
	}
	if syscallDef.MatchString(it.name) {
		c.finding(RuleSyscallDefine, SeverityError, cl.line, key, fmt.Sprintf(
			"changes a syscall defined with %s: its generated wrappers cannot be patched safely; replace %s with KPATCH_%s (from kpatch's kpatch-syscall.h) in the patch", it.name, it.name, it.name))
		return
	}
	if initFunc.MatchString(h) {
		c.finding(RuleInitCode, SeverityError, cl.line, key, fmt.Sprintf(
			"changes %s, which is __init/__exit code: it ran at boot (or module load) and is freed, so patching it has no effect and kpatch-build refuses it (\"changed section .init.text not selected for inclusion\"); put the fix in code that runs later, or in a klp callback", it.name))
		return
	}
	if c.isHeader() {
		c.finding(RuleHeaderInline, SeverityWarning, cl.line, key, fmt.Sprintf(
			"changes inline function %s in a header: every object that includes this header and uses it is rebuilt, and every caller is patched instead of %s itself; expect a large patch, and prefer changing an out-of-line function", it.name, it.name))
		return
	}
	if notraceKw.MatchString(h) {
		c.finding(RuleInlineNotrace, SeverityError, cl.line, key, fmt.Sprintf(
			"changes notrace function %s: it has no ftrace entry, so it cannot be live patched; patch its callers instead", it.name))
		return
	}
	if inlineKw.MatchString(h) && !strings.Contains(h, "__always_inline") {
		c.finding(RuleInlineNotrace, SeverityWarning, cl.line, key, fmt.Sprintf(
			"changes inline function %s: in the kernel 'inline' implies notrace, so if the compiler keeps it out of line it has no ftrace entry and cannot be patched (\"doesn't have patchable function entry\"); mark it __always_inline or drop 'inline'", it.name))
	}
	if !info.inBody && !staticKw.MatchString(h) && c.oldFuncs[it.name] {
		c.finding(RuleFunctionSignature, SeverityWarning, cl.line, key, fmt.Sprintf(
			"changes the definition line of global function %s: unpatched callers in other objects still use the old prototype; keep the signature, or add a new function and patch the callers", it.name))
	}
	if info.inBody && cl.kind == '+' && staticLocal.MatchString(cl.view.scan.info[cl.idx].code) {
		c.finding(RuleStaticLocal, SeverityWarning, cl.line, fmt.Sprint(cl.line), fmt.Sprintf(
			"adds or changes a static local variable in %s: a new static local lives in the patch module and starts from its initial value, and a changed one must stay referenced by the patched function; keep existing static locals, use a shadow variable for new state", it.name))
	}
}

func (c *fileCheck) checkType(cl changedLine, it *cItem, key string) {
	what := "struct"
	if strings.Contains(it.header, "enum") {
		what = "enum"
	} else if strings.Contains(it.header, "union") {
		what = "union"
	}
	rule := RuleStructLayout
	if c.isHeader() {
		rule = RuleHeaderStruct
	}
	if c.newTypes[it.name] {
		// No existing code or data can use a type the patch brings.
		if c.isHeader() {
			c.finding(rule, SeverityWarning, cl.line, key, fmt.Sprintf(
				"adds %s %s to a header: harmless to running code, but every object including the header is rebuilt and compared; define it in the .c file that uses it if you can", what, it.name))
		}
		return
	}
	if what == "enum" {
		c.finding(rule, SeverityWarning, cl.line, key, fmt.Sprintf(
			"changes enum %s: unpatched code keeps the old values; append new values only, and never renumber", it.name))
		return
	}
	c.finding(rule, SeverityError, cl.line, key, fmt.Sprintf(
		"changes the definition of %s %s: existing instances and unpatched code keep the old layout; add state with a shadow variable (klp_shadow_get_or_alloc) instead of a new field, and keep the struct as it is", what, it.name))
}

func (c *fileCheck) checkData(cl changedLine, it *cItem, key string, oldData, newData map[string]bool) {
	if initData.MatchString(it.header) {
		c.finding(RuleInitData, SeverityError, cl.line, key, fmt.Sprintf(
			"changes %s, which is __initdata/__initconst: it was used at boot and freed, so a live patch cannot change it; change the code that runs later instead", it.name))
		return
	}
	existed, exists := oldData[it.name], newData[it.name]
	switch {
	case cl.kind == '+' && !existed:
		c.finding(RuleDataNew, SeverityWarning, cl.line, key, fmt.Sprintf(
			"adds variable %s: it lives in the patch module and starts at its initial value; that is fine if only patched functions use it; to attach new state to existing objects use a shadow variable", it.name))
	case cl.kind == '-' && !exists:
		c.finding(RuleDataRemoved, SeverityWarning, cl.line, key, fmt.Sprintf(
			"removes variable %s: the running kernel keeps it and unpatched code may still use it; patched code just stops using it", it.name))
	default:
		c.finding(RuleDataChanged, SeverityError, cl.line, key, fmt.Sprintf(
			"changes the definition or initial value of existing data %s: the running kernel keeps its current value and layout (kpatch-build: \"data section selected for inclusion\"); set the new value from a klp pre_patch/post_patch callback, or keep new state in a shadow variable", it.name))
	}
}
