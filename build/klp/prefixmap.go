// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"strings"
)

// prefixMapArgs returns makeArgs with the compiler told to write dir as
// "." in debug information (-fdebug-prefix-map), so that the module's
// own objects (the generated source and kbuild's .mod.c) do not embed
// the work directory and two builds in different directories give the
// same bytes. The flag goes in KCFLAGS, which kbuild appends to the
// flags of every C compile, .mod.c included (ccflags-y in the Kbuild
// file would miss .mod.c). A KCFLAGS already in makeArgs, or else in env
// (the environment make inherits; a command-line KCFLAGS would hide it),
// keeps its flags, the map added after them.
//
// -fdebug-prefix-map, not -ffile-prefix-map: GCC 7 (Photon 3.0's
// kernels) has only the former, and neither generated file uses
// __FILE__. GCC splits the option at its first '=', and make splits
// KCFLAGS at blanks, so a dir holding either cannot be mapped: such a
// build still works, but embeds its directory.
func prefixMapArgs(makeArgs, env []string, dir string) []string {
	if dir == "" || strings.ContainsAny(dir, "= \t\n") {
		return makeArgs
	}
	flag := "-fdebug-prefix-map=" + strings.TrimSuffix(dir, "/") + "=."
	out := append([]string(nil), makeArgs...)
	// make takes the last of several command-line assignments.
	for i := len(out) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(out[i], "KCFLAGS="); ok {
			out[i] = "KCFLAGS=" + joinFlags(v, flag)
			return out
		}
	}
	var inherited string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "KCFLAGS="); ok {
			inherited = v // the last wins, as in exec
		}
	}
	return append(out, "KCFLAGS="+joinFlags(inherited, flag))
}

func joinFlags(flags, flag string) string {
	if strings.TrimSpace(flags) == "" {
		return flag
	}
	return flags + " " + flag
}
