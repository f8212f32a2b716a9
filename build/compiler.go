// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/klpkit/klpkit/internal/ccwrap"
)

// kernelCompiler returns the compiler identification of the kernel: the
// "GCC: ..." string in vmlinux's .comment, else CONFIG_CC_VERSION_TEXT,
// normalised to what follows the program name ("(Debian 12.2.0-14) 12.2.0").
// The check is ccwrap's, which photon/kernelsrc's runs too.
func kernelCompiler(vmlinux string, c kconfig) (string, error) {
	if vmlinux != "" {
		ident, err := ccwrap.ELFIdent(vmlinux)
		if err == nil {
			return ident, nil
		}
		if !errors.Is(err, ccwrap.ErrNoIdent) {
			return "", fmt.Errorf("compiler check: %w", err)
		}
	}
	if v := c["CONFIG_CC_VERSION_TEXT"]; v != "" {
		v, _ = withoutWrappers(v)
		return afterProgramName(v), nil
	}
	return "", fmt.Errorf("compiler check: neither vmlinux .comment nor CONFIG_CC_VERSION_TEXT names the kernel's compiler")
}

// localCompiler returns the identification of cc in the same form; cc is
// a CC make variable, the real compiler behind any wrapper answers.
func localCompiler(ctx context.Context, cc string) (string, error) {
	return localCompilerIn(ctx, nil, cc)
}

// localCompilerIn is localCompiler for the compiler of a toolchain root
// (nil: the host's).
func localCompilerIn(ctx context.Context, e *rootEnv, cc string) (string, error) {
	line, err := e.versionLine(ctx, cc)
	if err != nil {
		return "", err
	}
	return afterProgramName(line), nil
}

// versionLine returns the first line of `<real compiler> --version`, as
// kbuild records it in CONFIG_CC_VERSION_TEXT.
func versionLine(ctx context.Context, cc string) (string, error) {
	prog, err := compilerProgram(cc)
	if err != nil {
		return "", fmt.Errorf("compiler check: %w", err)
	}
	out, err := exec.CommandContext(ctx, prog, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("compiler check: %s --version: %w", prog, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}

// afterProgramName drops the program name from a `gcc --version` line:
// "gcc-12 (Debian 12.2.0-14) 12.2.0" -> "(Debian 12.2.0-14) 12.2.0".
func afterProgramName(s string) string { return ccwrap.Ident(s) }

// checkCompiler compares the tree's compiler (its CC, unwrapped) with the
// kernel's and returns the local identification.
func checkCompiler(ctx context.Context, t *Tree, c kconfig) (string, error) {
	return checkCompilerIn(ctx, nil, t, c)
}

// checkCompilerIn is checkCompiler for the compiler of a toolchain root
// (nil: the host's).
func checkCompilerIn(ctx context.Context, e *rootEnv, t *Tree, c kconfig) (string, error) {
	want, err := kernelCompiler(t.Vmlinux, c)
	if err != nil {
		return "", err
	}
	cc := t.compiler()
	line, err := e.versionLine(ctx, cc)
	if err != nil {
		return "", err
	}
	got := afterProgramName(line)
	if ccwrap.Same(want, got, false) {
		return got, nil
	}
	if t.Vmlinux != "" {
		return got, fmt.Errorf("kernel built with %q (%s .comment), %s in %s is %q (use the kernel's compiler, --toolchain auto, or skip the check): %w", want, t.Vmlinux, cc, e, got, ErrCompilerMismatch)
	}
	// Without vmlinux the kernel config is the only witness, and tools that
	// build through wrappers may have rewritten its compiler string.
	return got, fmt.Errorf("kernel config %s says the kernel was built with %q, %s is %q: %w; "+
		"give the kernel's vmlinux (its .comment names the compiler that built it), or, if %s did build this kernel, record it in the config with: %s",
		t.Config, c["CONFIG_CC_VERSION_TEXT"], cc, got, ErrCompilerMismatch, cc, configFixCommand(t.Config, line))
}

// configFixCommand is the shell command that sets CONFIG_CC_VERSION_TEXT
// in config to line.
func configFixCommand(config, line string) string {
	value := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(line) + `"` // as Kconfig writes strings
	repl := strings.NewReplacer(`\`, `\\`, `&`, `\&`, `|`, `\|`).Replace("CONFIG_CC_VERSION_TEXT=" + value)
	script := `s|^CONFIG_CC_VERSION_TEXT=.*|` + repl + `|`
	return "sed -i " + shellQuote(script) + " " + shellQuote(config)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
