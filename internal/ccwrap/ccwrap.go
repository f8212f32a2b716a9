// SPDX-License-Identifier: Apache-2.0

// Package ccwrap finds the real C compiler behind compiler wrappers such
// as ccache, distcc, icecc and kpatch-cc, in a recorded compile command or
// in a CC make variable. Livepatch builds run the real compiler: a cache
// or a remote build host must never serve an object for a patched file,
// and the compiler check must identify the compiler, not the wrapper.
package ccwrap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrUnknownWrapper means a command starts with a program that is neither a
// compiler nor a wrapper this package knows, in front of a compiler.
var ErrUnknownWrapper = errors.New("unknown compiler wrapper")

// UnknownWrapperError names the unknown program and the compiler after it.
type UnknownWrapperError struct {
	Program  string // the first program, e.g. "mywrap"
	Compiler string // the compiler it runs, e.g. "gcc-12"
}

func (e *UnknownWrapperError) Error() string {
	return fmt.Sprintf("%q in front of the compiler %q is not a compiler wrapper klpkit knows (%s)", e.Program, e.Compiler, strings.Join(Known(), ", "))
}

func (e *UnknownWrapperError) Unwrap() error { return ErrUnknownWrapper }

// ErrNoCompiler means a wrapper names no compiler after it.
var ErrNoCompiler = errors.New("compiler wrapper names no compiler")

// wrapper describes how a known wrapper is invoked in front of a compiler:
// `<wrapper> [settings] <compiler> <args>`.
type wrapper struct {
	// envPrefixes are the environment variables that configure it; an
	// assignment of one in front of the command goes with the wrapper.
	envPrefixes []string
	// settings: KEY=VALUE words between the wrapper and the compiler
	// (ccache 4.8+ takes configuration that way) belong to it.
	settings bool
}

// wrappers are the wrappers known by program name.
var wrappers = map[string]wrapper{
	"ccache":    {envPrefixes: []string{"CCACHE_"}, settings: true},
	"sccache":   {envPrefixes: []string{"SCCACHE_"}},
	"distcc":    {envPrefixes: []string{"DISTCC_"}},
	"icecc":     {envPrefixes: []string{"ICECC_"}},
	"kpatch-cc": {envPrefixes: []string{"KPATCH_"}},
	// kpatch-build before 0.9.3 called its wrapper kpatch-gcc.
	"kpatch-gcc": {envPrefixes: []string{"KPATCH_"}},
}

// Known lists the wrapper program names Unwrap recognises, sorted.
func Known() []string {
	var names []string
	for n := range wrappers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// IsWrapper reports whether program (a name or a path) is a known wrapper.
func IsWrapper(program string) bool {
	_, ok := wrappers[filepath.Base(program)]
	return ok
}

// compilerName matches the programs taken for C compilers: gcc, cc, clang,
// with an optional target prefix and version suffix
// (x86_64-linux-gnu-gcc-12, clang-14).
var compilerName = regexp.MustCompile(`^([A-Za-z0-9_.+]+-)*(gcc|cc|clang|c89|c99)(-[0-9][0-9.]*)?$`)

// IsCompiler reports whether program (a name or a path) is named like a C
// compiler.
func IsCompiler(program string) bool { return compilerName.MatchString(filepath.Base(program)) }

// assignment matches a shell variable assignment word, NAME=VALUE.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// Command is a compile command with its wrappers taken apart.
type Command struct {
	// Env holds the NAME=VALUE assignments in front of the command that
	// are not a wrapper's own settings; they apply to the compiler too.
	Env []string
	// Wrappers are the wrapper words removed, outermost first, as written
	// (e.g. "/usr/bin/ccache").
	Wrappers []string
	// Argv is the real compiler and its arguments.
	Argv []string
}

// Unwrap takes the wrappers off a command given as words (its shell
// assignments first, if any): `CCACHE_DISABLE=1 ccache gcc-12 -c x.c`
// gives Argv [gcc-12 -c x.c]. Wrappers may nest (kpatch-cc ccache gcc).
// A command whose first program is unknown but followed by a compiler
// name is refused with ErrUnknownWrapper: running it would bypass an
// unknown tool, running the compiler alone might miss what it adds. A
// first program that is not followed by a compiler is taken for the
// compiler, whatever its name.
func Unwrap(words []string) (Command, error) {
	var c Command
	var envs []string
	for len(words) > 0 {
		if assignment.MatchString(words[0]) {
			envs = append(envs, words[0])
		} else if filepath.Base(words[0]) != "env" || len(words) < 2 || strings.HasPrefix(words[1], "-") {
			break // env(1) with options is not taken apart
		}
		words = words[1:]
	}
	if len(words) == 0 {
		return c, fmt.Errorf("command %q runs no program", strings.Join(envs, " "))
	}
	var prefixes []string
	for {
		prog := words[0]
		w, ok := wrappers[filepath.Base(prog)]
		if !ok {
			break
		}
		c.Wrappers = append(c.Wrappers, prog)
		prefixes = append(prefixes, w.envPrefixes...)
		words = words[1:]
		for w.settings && len(words) > 0 && assignment.MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) == 0 || strings.HasPrefix(words[0], "-") {
			return c, fmt.Errorf("%s: %w (klpkit needs it written out, as in %q)", prog, ErrNoCompiler, filepath.Base(prog)+" gcc")
		}
	}
	if len(words) > 1 && !IsCompiler(words[0]) && IsCompiler(words[1]) {
		return c, &UnknownWrapperError{Program: words[0], Compiler: words[1]}
	}
	for _, e := range envs {
		name, _, _ := strings.Cut(e, "=")
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			c.Env = append(c.Env, e)
		}
	}
	c.Argv = words
	return c, nil
}

// Masked reports whether program resolves, through symlinks, to a known
// wrapper: ccache, distcc and icecc install links named after compilers
// (/usr/lib/ccache/gcc-12 -> /usr/bin/ccache) that masquerade as them.
// A program without a slash is looked up in pathList (a PATH value).
func Masked(program, pathList string) bool {
	p := program
	if !strings.Contains(p, "/") {
		p = lookPath(p, pathList, false)
		if p == "" {
			return false
		}
	}
	real, err := filepath.EvalSymlinks(p)
	return err == nil && IsWrapper(real)
}

// Unmask returns the program a masquerading wrapper link stands for: the
// first executable of the same name in pathList that is not itself a
// wrapper, as the wrapper finds it. A program that is no wrapper link is
// returned as it is.
func Unmask(program, pathList string) (string, error) {
	if !Masked(program, pathList) {
		return program, nil
	}
	if p := lookPath(filepath.Base(program), pathList, true); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s is a compiler wrapper's link and no %s in PATH is the compiler itself", program, filepath.Base(program))
}

// lookPath finds name in pathList; with skipWrappers, links to wrappers
// are passed over.
func lookPath(name, pathList string, skipWrappers bool) string {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // relative PATH entries depend on the directory a command runs in
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		if skipWrappers {
			if real, err := filepath.EvalSymlinks(p); err != nil || IsWrapper(real) {
				continue
			}
		}
		return p
	}
	return ""
}
