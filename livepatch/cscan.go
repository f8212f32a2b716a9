// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"regexp"
	"strings"
)

// itemKind classifies a top-level C construct.
type itemKind int

const (
	itemPreproc      itemKind = iota + 1 // #include, #if, ...
	itemMacro                            // #define
	itemFunction                         // function definition
	itemPrototype                        // function declaration
	itemData                             // variable definition, with or without initializer
	itemType                             // struct/union/enum definition, typedef, forward declaration
	itemExtern                           // extern declaration
	itemRegistration                     // EXPORT_SYMBOL, module_init, MODULE_LICENSE, ...
)

// cItem is one top-level construct of a C file.
type cItem struct {
	kind       itemKind
	name       string
	header     string // code up to the first '{' or ';', comments removed, spaces folded
	start, end int    // 0-based line range, inclusive
	open       bool   // still being read
}

// lineInfo is what the scanner knows about one line.
type lineInfo struct {
	item   int    // index into the items, -1 between items
	inBody bool   // inside a function body, after its '{'
	code   string // the line's code: comments removed, strings kept
}

// cScanner is a small C-aware scanner: it tracks comments, strings,
// preprocessor lines and brace depth well enough to tell, for each line,
// whether it is inside a function body, a struct, a data initializer, a
// declaration or a macro. It does not expand macros or evaluate #if.
type cScanner struct {
	items []cItem
	info  []lineInfo

	depth        int // brace depth
	paren        int // paren depth at brace depth 0
	inComment    bool
	inPreproc    bool // continuing a preprocessor line
	cur          strings.Builder
	curStart     int
	pending      int  // index of the open item, or -1
	afterClosing bool // a struct or data block closed; waiting for ';'
}

// scanC scans lines. start, when not nil, is the construct the lines begin
// inside of (hunk context: the function diff -p names in the @@ line).
func scanC(lines []string, start *cItem) *cScanner {
	s := &cScanner{pending: -1}
	if start != nil {
		it := *start
		it.open = true
		s.items = append(s.items, it)
		s.pending = 0
		s.depth = 1
	}
	for i, l := range lines {
		s.line(i, strings.TrimSuffix(l, "\r"))
	}
	return s
}

func (s *cScanner) line(i int, l string) {
	if s.pending >= 0 && s.items[s.pending].start < 0 && len(l) > 0 && (isIdentStart(l[0]) || l[0] == '#') && !s.inComment {
		// A guessed enclosing construct (hunk context) has ended: in kernel
		// style only top-level code starts in column 0.
		s.items[s.pending].open = false
		s.pending, s.depth, s.paren = -1, 0, 0
	}
	info := lineInfo{item: s.pending}
	if s.pending >= 0 && s.items[s.pending].kind == itemFunction && s.depth > 0 {
		info.inBody = true
	}
	trimmed := strings.TrimSpace(l)
	if !s.inComment && (s.inPreproc || strings.HasPrefix(trimmed, "#")) {
		info.code = trimmed
		s.inPreproc = strings.HasSuffix(trimmed, `\`)
		if s.depth == 0 {
			kind := itemPreproc
			if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(trimmed, "#")), "define") {
				kind = itemMacro
			}
			if len(s.items) > 0 && s.items[len(s.items)-1].kind != 0 && s.items[len(s.items)-1].end == i-1 && s.continuesMacro(i) {
				s.items[len(s.items)-1].end = i
			} else {
				s.items = append(s.items, cItem{kind: kind, name: macroName(trimmed), header: trimmed, start: i, end: i})
			}
			info.item = len(s.items) - 1
			info.inBody = false
		}
		s.info = append(s.info, info)
		return
	}
	var code strings.Builder
	for k := 0; k < len(l); k++ {
		c := l[k]
		if s.inComment {
			if c == '*' && k+1 < len(l) && l[k+1] == '/' {
				s.inComment = false
				k++
				code.WriteByte(' ')
			}
			continue
		}
		switch {
		case c == '/' && k+1 < len(l) && l[k+1] == '/':
			k = len(l)
			continue
		case c == '/' && k+1 < len(l) && l[k+1] == '*':
			s.inComment = true
			k++
			continue
		case c == '"' || c == '\'':
			end := skipLiteral(l, k)
			code.WriteString(l[k:end])
			s.feed(i, l[k:end])
			k = end - 1
			continue
		}
		code.WriteByte(c)
		s.char(i, c, &info)
	}
	info.code = strings.TrimSpace(code.String())
	if info.code != "" && info.item < 0 {
		info.item = s.pending
		if info.item < 0 && len(s.items) > 0 && s.items[len(s.items)-1].end == i {
			info.item = len(s.items) - 1
		}
	}
	s.feed(i, " ")
	s.info = append(s.info, info)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// continuesMacro reports whether line i continues the macro before it.
func (s *cScanner) continuesMacro(i int) bool {
	return i > 0 && len(s.info) == i && strings.HasSuffix(s.info[i-1].code, `\`)
}

// skipLiteral returns the index after the string or char literal at k.
func skipLiteral(l string, k int) int {
	q := l[k]
	for j := k + 1; j < len(l); j++ {
		if l[j] == '\\' {
			j++
			continue
		}
		if l[j] == q {
			return j + 1
		}
	}
	return len(l)
}

// feed adds code text to the pending top-level statement.
func (s *cScanner) feed(i int, text string) {
	if s.depth != 0 {
		return
	}
	if s.cur.Len() == 0 && strings.TrimSpace(text) == "" {
		return
	}
	if s.cur.Len() == 0 {
		s.curStart = i
	}
	s.cur.WriteString(text)
}

func (s *cScanner) char(i int, c byte, info *lineInfo) {
	switch c {
	case '{':
		if s.depth == 0 && s.paren == 0 && !s.afterClosing {
			h := s.header()
			kind, name := classifyBlock(h)
			s.items = append(s.items, cItem{kind: kind, name: name, header: h, start: s.curStart, end: i, open: true})
			s.pending = len(s.items) - 1
			info.item = s.pending
			s.backfill(s.pending, i)
		}
		s.depth++
		return
	case '}':
		if s.depth > 0 {
			s.depth--
		}
		if s.depth == 0 && s.pending >= 0 {
			it := &s.items[s.pending]
			it.end = i
			if it.kind == itemFunction {
				it.open = false
				s.pending = -1
				s.cur.Reset()
			} else {
				s.afterClosing = true
				s.feed(i, "}")
			}
		}
		return
	case '(':
		if s.depth == 0 {
			s.paren++
		}
	case ')':
		if s.depth == 0 && s.paren > 0 {
			s.paren--
		}
	case ';':
		if s.depth == 0 && s.paren == 0 {
			s.endStatement(i, info)
			return
		}
	}
	if s.depth == 0 {
		s.feed(i, string(c))
	}
}

// endStatement closes a top-level statement at its ';'.
func (s *cScanner) endStatement(i int, info *lineInfo) {
	if s.pending >= 0 {
		it := &s.items[s.pending]
		it.end, it.open = i, false
		if it.kind == itemType {
			// "struct x { ... } var;" defines a variable too.
			tail := s.cur.String()
			if j := strings.LastIndex(tail, "}"); j >= 0 && lastIdent(tail[j+1:]) != "" {
				it.kind, it.name = itemData, lastIdent(tail[j+1:])
			}
		}
		s.pending, s.afterClosing = -1, false
		s.cur.Reset()
		return
	}
	h := s.header()
	if h != "" {
		kind, name := classifyStatement(h)
		s.items = append(s.items, cItem{kind: kind, name: name, header: h, start: s.curStart, end: i})
		info.item = len(s.items) - 1
		s.backfill(info.item, i)
	}
	s.cur.Reset()
}

// backfill assigns the earlier lines of a statement to its item.
func (s *cScanner) backfill(item, i int) {
	for k := s.items[item].start; k < i && k < len(s.info); k++ {
		if k >= 0 && s.info[k].code != "" {
			s.info[k].item = item
		}
	}
}

var spaces = regexp.MustCompile(`\s+`)

func (s *cScanner) header() string {
	return strings.Join(strings.Fields(s.cur.String()), " ")
}

var (
	typeBlock   = regexp.MustCompile(`^(typedef\s+)?(struct|union|enum)\b[^=()]*$`)
	identRe     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	attrIdents  = regexp.MustCompile(`^(__attribute__|__section|__aligned|__printf|__scanf|__acquires|__releases|__must_hold|__cold|__weak|__visible|__no_kcsan|__nocfi|__diag\w*|__counted_by|__malloc|__alloc_size|__nonnull)$`)
	syscallDef  = regexp.MustCompile(`^(COMPAT_)?SYSCALL_DEFINE[0-6]$`)
	registerFns = regexp.MustCompile(`^(EXPORT_SYMBOL\w*|EXPORT_PER_CPU_SYMBOL\w*|MODULE_\w+|module_\w+|\w*_initcall\w*|__setup|early_param|core_param|module_param\w*|__exitcall|__initcall)$`)
)

// classifyBlock names the construct whose header ends at a top-level '{'.
func classifyBlock(h string) (itemKind, string) {
	switch {
	case typeBlock.MatchString(h):
		return itemType, lastIdent(strings.TrimPrefix(h, "typedef"))
	case topLevelEquals(h):
		return itemData, dataName(h)
	case strings.Contains(h, "("):
		return itemFunction, funcName(h)
	}
	return itemType, lastIdent(h)
}

// classifyStatement names a top-level declaration ending in ';'.
func classifyStatement(h string) (itemKind, string) {
	first := identRe.FindString(h)
	switch {
	case strings.HasPrefix(h, "typedef"):
		return itemType, lastIdent(h)
	case strings.HasPrefix(h, "extern"):
		return itemExtern, funcOrDataName(h)
	case topLevelEquals(h):
		return itemData, dataName(h)
	case registerFns.MatchString(first):
		return itemRegistration, first + "(" + firstArg(h) + ")"
	case strings.Contains(h, "DEFINE_") || strings.HasPrefix(h, "LIST_HEAD") || strings.Contains(h, " LIST_HEAD("):
		return itemData, firstArg(h)
	case strings.Contains(h, "("):
		return itemPrototype, funcName(h)
	case typeBlock.MatchString(h):
		return itemType, lastIdent(h)
	}
	return itemData, dataName(h)
}

func funcOrDataName(h string) string {
	if strings.Contains(h, "(") {
		return funcName(h)
	}
	return dataName(h)
}

func topLevelEquals(h string) bool {
	depth := 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '=':
			if depth == 0 && (i+1 >= len(h) || h[i+1] != '=') && (i == 0 || !strings.ContainsRune("=!<>", rune(h[i-1]))) {
				return true
			}
		}
	}
	return false
}

// funcName finds the function name in a definition or declaration header:
// the identifier before the first top-level '(' that is not an attribute.
// SYSCALL_DEFINEn(name, ...) yields the macro; its first argument is the
// syscall name.
func funcName(h string) string {
	depth := 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '(':
			if depth == 0 {
				if id := identBefore(h, i); id != "" && !attrIdents.MatchString(id) {
					return id
				}
			}
			depth++
		case ')':
			depth--
		}
	}
	return lastIdent(h)
}

// identBefore returns the identifier that ends just before h[i], skipping
// spaces.
func identBefore(h string, i int) string {
	j := i
	for j > 0 && h[j-1] == ' ' {
		j--
	}
	k := j
	for k > 0 && (isIdentStart(h[k-1]) || h[k-1] >= '0' && h[k-1] <= '9') {
		k--
	}
	if k == j || !isIdentStart(h[k]) {
		return ""
	}
	return h[k:j]
}

var dataAttrs = regexp.MustCompile(`^(__\w+|const|volatile|static|unsigned|signed|int|long|char|short|bool|void)$`)

// dataName is the variable a declaration defines: the last plain
// identifier before its initializer or array bounds.
func dataName(h string) string {
	cut := len(h)
	for _, sep := range []string{"=", "[", ";", ":"} {
		if j := strings.Index(h, sep); j >= 0 && j < cut {
			cut = j
		}
	}
	ids := identRe.FindAllString(h[:cut], -1)
	for k := len(ids) - 1; k >= 0; k-- {
		if !dataAttrs.MatchString(ids[k]) {
			return ids[k]
		}
	}
	return lastIdent(h[:cut])
}

func firstArg(h string) string {
	_, rest, ok := strings.Cut(h, "(")
	if !ok {
		return ""
	}
	arg, _, _ := strings.Cut(rest, ",")
	arg, _, _ = strings.Cut(arg, ")")
	return strings.TrimSpace(arg)
}

func lastIdent(s string) string {
	ids := identRe.FindAllString(s, -1)
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

func macroName(line string) string {
	rest := strings.TrimSpace(strings.TrimPrefix(line, "#"))
	rest, ok := strings.CutPrefix(rest, "define")
	if !ok {
		return ""
	}
	return identRe.FindString(rest)
}

// enclosingFromSection guesses the construct a hunk starts in from the
// text diff -p prints after "@@": a function header or a struct opener.
func enclosingFromSection(section string) *cItem {
	h := strings.TrimSpace(section)
	switch {
	case h == "" || strings.HasPrefix(h, "#"):
		return nil
	case typeBlock.MatchString(strings.TrimSuffix(h, "{")):
		return &cItem{kind: itemType, name: lastIdent(strings.TrimSuffix(h, "{")), header: h, start: -1}
	case strings.Contains(h, "(") && !strings.HasSuffix(h, ";") && !topLevelEquals(h):
		return &cItem{kind: itemFunction, name: funcName(h), header: h, start: -1}
	case topLevelEquals(h) && strings.HasSuffix(h, "{"):
		return &cItem{kind: itemData, name: dataName(h), header: h, start: -1}
	}
	return nil
}
