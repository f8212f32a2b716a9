// SPDX-License-Identifier: Apache-2.0

package build

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/ccwrap"
)

// Trees built through compiler wrappers (ccache, distcc, icecc, kpatch-cc)
// record the wrapper in front of the compiler in every .cmd file. klpkit
// runs the real compiler itself: a cache or a remote host must not serve
// the object of a patched file, and the compiler check must identify the
// compiler, not the wrapper.

// realCompileStep takes the wrappers off the recorded compiler step of obj:
// argv is the real compiler and its arguments, the program found behind a
// masquerading link too (a PATH with /usr/lib/ccache first); prefix runs it
// with the assignments in front of the command that configure no wrapper
// (env(1) and them), or is empty.
func realCompileStep(obj string, step []string) (prefix, argv []string, err error) {
	c, err := ccwrap.Unwrap(step)
	if err != nil {
		if uw, ok := errors.AsType[*ccwrap.UnknownWrapperError](err); ok {
			return nil, nil, fmt.Errorf("the kbuild command of %s: %w; record it without the wrapper by running `make CC=%s %s` in the tree", obj, err, uw.Compiler, obj)
		}
		return nil, nil, fmt.Errorf("the kbuild command of %s: %w", obj, err)
	}
	// exec looks programs up in this process's PATH; the real compiler is
	// found in the same one.
	prog, err := ccwrap.Unmask(c.Argv[0], os.Getenv("PATH"))
	if err != nil {
		return nil, nil, fmt.Errorf("the kbuild command of %s: %w", obj, err)
	}
	argv = slices.Clone(c.Argv)
	argv[0] = prog
	if len(c.Env) > 0 {
		prefix = append([]string{"env"}, c.Env...)
	}
	return prefix, argv, nil
}

// compilerProgram returns the real compiler of a CC make variable, which
// may be a command line ("ccache gcc-12", "distcc x86_64-linux-gnu-gcc-12").
func compilerProgram(cc string) (string, error) {
	steps, err := splitShell(cc)
	if err != nil || len(steps) != 1 {
		return "", fmt.Errorf("CC=%q is not a compiler command line", cc)
	}
	c, err := ccwrap.Unwrap(steps[0])
	if err != nil {
		return "", fmt.Errorf("CC=%q: %w", cc, err)
	}
	prog, err := ccwrap.Unmask(c.Argv[0], os.Getenv("PATH"))
	if err != nil {
		return "", fmt.Errorf("CC=%q: %w", cc, err)
	}
	return prog, nil
}

// withoutWrappers drops the wrapper words a tool that ran `$(CC)
// --version` through its wrapper left in front of a compiler
// identification: "ccache gcc-12 (Debian 12.2.0-14) 12.2.0" ->
// "gcc-12 (Debian 12.2.0-14) 12.2.0". It reports whether it dropped any.
func withoutWrappers(text string) (string, bool) {
	words := strings.Fields(text)
	n := 0
	for n < len(words)-1 && ccwrap.IsWrapper(words[n]) {
		n++
	}
	if n == 0 {
		return text, false
	}
	return strings.Join(words[n:], " "), true
}

// unwrappedCompilerText returns c with its CONFIG_CC_VERSION_TEXT freed of
// wrapper words, so that a tree whose .config a wrapper-based tool wrote
// compares equal to the kernel's config.
func unwrappedCompilerText(c kconfig) kconfig {
	v, ok := withoutWrappers(c["CONFIG_CC_VERSION_TEXT"])
	if !ok {
		return c
	}
	out := maps.Clone(c)
	out["CONFIG_CC_VERSION_TEXT"] = v
	return out
}

// realCCMakeArgs returns makeArgs with a CC that runs the real compiler:
// the wrapper words of CC=... dropped ("ccache gcc-12" -> "gcc-12"), and a
// compiler PATH finds through a wrapper's masquerading link named by its
// own path. kbuild compiles the module klpkit generates with it: no cache
// or remote host takes part in a livepatch build.
func realCCMakeArgs(makeArgs []string) ([]string, error) {
	out := slices.Clone(makeArgs)
	i := slices.IndexFunc(out, func(a string) bool { return strings.HasPrefix(a, "CC=") })
	cc := "gcc" // kbuild's default
	if i >= 0 {
		cc = strings.TrimPrefix(out[i], "CC=")
	}
	steps, err := splitShell(cc)
	if err != nil || len(steps) != 1 {
		return nil, fmt.Errorf("CC=%q is not a compiler command line", cc)
	}
	c, err := ccwrap.Unwrap(steps[0])
	if err != nil {
		return nil, fmt.Errorf("CC=%q: %w", cc, err)
	}
	prog, err := ccwrap.Unmask(c.Argv[0], os.Getenv("PATH"))
	if err != nil {
		return nil, fmt.Errorf("CC=%q: %w", cc, err)
	}
	if len(c.Wrappers) == 0 && prog == c.Argv[0] {
		return out, nil // as the caller wrote it
	}
	words := append(slices.Clone(c.Env), prog)
	words = append(words, c.Argv[1:]...)
	real := "CC=" + strings.Join(words, " ")
	if i >= 0 {
		out[i] = real
	} else {
		out = append(out, real)
	}
	return out, nil
}
