// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"path/filepath"
	"strings"
)

// prefixMapArgs returns makeArgs with the compiler told to write each of
// dirs as "." in debug information (-fdebug-prefix-map), so that the
// module's own objects (the generated source and kbuild's .mod.c) embed
// neither the work directory nor where the kernel tree happens to be,
// and two builds in different directories give the same bytes. Each dir
// is mapped as given and with links resolved (the compiler records its
// working directory either way). GCC tries the last map first, so the
// more specific dirs come last. The flags go in KCFLAGS, which kbuild
// appends to the flags of every C compile, .mod.c included (ccflags-y in
// the Kbuild file would miss .mod.c). A KCFLAGS already in makeArgs, or
// else in env (the environment make inherits; a command-line KCFLAGS
// would hide it), keeps its flags, the maps added after them.
//
// -fdebug-prefix-map, not -ffile-prefix-map: GCC 7 (Photon 3.0's
// kernels) has only the former, and neither generated file uses
// __FILE__. GCC splits the option at its first '=', and make splits
// KCFLAGS at blanks, so a dir holding either cannot be mapped: such a
// build still works, but embeds that directory.
func prefixMapArgs(makeArgs, env []string, dirs ...string) []string {
	flags := debugPrefixMaps(dirs...)
	if len(flags) == 0 {
		return makeArgs
	}
	add := strings.Join(flags, " ")
	out := append([]string(nil), makeArgs...)
	// make takes the last of several command-line assignments.
	for i := len(out) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(out[i], "KCFLAGS="); ok {
			out[i] = "KCFLAGS=" + joinFlags(v, add)
			return out
		}
	}
	var inherited string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "KCFLAGS="); ok {
			inherited = v // the last wins, as in exec
		}
	}
	return append(out, "KCFLAGS="+joinFlags(inherited, add))
}

// debugPrefixMaps returns the -fdebug-prefix-map flags that write each of
// dirs (as given and resolved) as ".", in prefixMapArgs' order.
func debugPrefixMaps(dirs ...string) []string {
	var flags []string
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		forms := []string{filepath.Clean(dir)}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			forms = append(forms, real)
		}
		for _, d := range forms {
			if seen[d] || d == "/" || strings.ContainsAny(d, "= \t\n") {
				continue
			}
			seen[d] = true
			flags = append(flags, "-fdebug-prefix-map="+d+"=.")
		}
	}
	return flags
}

func joinFlags(flags, add string) string {
	if strings.TrimSpace(flags) == "" {
		return add
	}
	return flags + " " + add
}
