// SPDX-License-Identifier: Apache-2.0

package objdiff

import "strings"

// baseName strips compiler numbering from a name: every ".<digits>"
// component (foo.isra.3 -> foo.isra, x.123 -> x) and the __COUNTER__ value
// that ends a __UNIQUE_ID_ component (GCC's __UNIQUE_ID_ddebug539.36 ->
// __UNIQUE_ID_ddebug, Clang's fn.__UNIQUE_ID_ddebug415 ->
// fn.__UNIQUE_ID_ddebug). Two names correlate when their base names match.
func baseName(name string) string {
	if !strings.Contains(name, ".") {
		return trimUniqueID(name)
	}
	parts := strings.Split(name, ".")
	out := []string{trimUniqueID(parts[0])}
	for _, p := range parts[1:] {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			continue
		}
		out = append(out, trimUniqueID(p))
	}
	return strings.Join(out, ".")
}

// trimUniqueID drops the counter __UNIQUE_ID() appends to its prefix.
func trimUniqueID(s string) string {
	if strings.HasPrefix(s, "__UNIQUE_ID_") {
		return strings.TrimRight(s, "0123456789")
	}
	return s
}

// namesMatch reports whether two section or symbol names correlate.
// String-literal sections (.str1.) must match exactly.
func namesMatch(a, b string) bool {
	if a == b {
		return true
	}
	if strings.Contains(a, ".str1.") || strings.Contains(b, ".str1.") {
		return false
	}
	return baseName(a) == baseName(b)
}

// specialStaticPrefixes are compiler or macro generated statics that are
// never correlated: the patched object's copy is always used.
var specialStaticPrefixes = []string{
	"__key", "__warned", "__already_done", "__func__", "__FUNCTION__",
	"_rs", "CSWTCH", "_entry", "__print_once", "descriptor",
	"__UNIQUE_ID_ddebug",
}

// neverCorrelated reports symbols that are always taken from the patched side.
func neverCorrelated(name string) bool {
	if strings.HasPrefix(name, ".LC") || strings.HasPrefix(name, ".data..L__unnamed_") ||
		strings.HasPrefix(name, ".Lubsan") || strings.Contains(name, "__ubsan") {
		return true
	}
	// gcc names them "__key.3", clang "func.__key.3": check every component.
	for _, part := range strings.Split(name, ".") {
		for _, p := range specialStaticPrefixes {
			if part == p || (strings.HasPrefix(p, "__UNIQUE_ID_") && strings.HasPrefix(part, p)) {
				return true
			}
		}
	}
	return false
}

// parentName returns the parent of a compiler child function (foo.cold.3 ->
// foo, foo.part.2 -> foo) and the kind of child, or "" for other names.
func parentName(name string) (parent, kind string) {
	if i := strings.LastIndex(name, ".cold"); i > 0 {
		rest := name[i+len(".cold"):]
		if rest == "" || (rest[0] == '.' && strings.Trim(rest[1:], "0123456789") == "") {
			return name[:i], "cold"
		}
	}
	if i := strings.LastIndex(name, ".part."); i > 0 && strings.Trim(name[i+len(".part."):], "0123456789") == "" {
		return name[:i], "part"
	}
	return "", ""
}

// stripSectionPrefix returns the symbol name a function or data section is
// named after (".text.unlikely.foo" -> "foo"), or "".
func stripSectionPrefix(sec string) string {
	for _, p := range []string{".text.unlikely.", ".text.hot.", ".text.", ".data.rel.ro.local.", ".data.rel.ro.",
		".data.rel.local.", ".data.rel.", ".data..read_mostly.", ".data.", ".rodata.", ".bss."} {
		if strings.HasPrefix(sec, p) {
			return sec[len(p):]
		}
	}
	return ""
}
