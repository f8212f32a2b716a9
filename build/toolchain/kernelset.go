// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"errors"
	"fmt"
	"strings"
)

// DebianKernelBuild is the package set a root needs to build a Debian
// kernel's modules and livepatches with kbuild: the compiler given (an
// exact "gcc-10=10.2.1-6", or a name), the binutils and libc headers it
// works with, make and the shell and text tools kbuild's recipes call,
// libelf and libssl headers for objtool and sign-file, flex and bison for
// Kconfig, perl for the scripts that use it, and pahole for BTF in
// modules (CONFIG_DEBUG_INFO_BTF_MODULES).
func DebianKernelBuild(gcc string) []string {
	return []string{
		gcc, "binutils", "libc6-dev", "make",
		"dash", "bash", "coreutils", "sed", "grep", "mawk", "findutils", "diffutils",
		"gzip", "xz-utils", "tar", "cpio", "kmod",
		"bc", "bison", "flex", "perl",
		"libelf-dev", "libssl-dev", "dwarves",
	}
}

// ErrUnknownCompiler: a compiler identification names no Debian gcc
// package.
var ErrUnknownCompiler = errors.New("toolchain: not a Debian gcc identification")

// DebianCompiler names the Debian package, at its exact version, of the
// gcc that a kernel's identification names: CONFIG_CC_VERSION_TEXT
// ("gcc-10 (Debian 10.2.1-6) 10.2.1 20210110") or vmlinux's .comment
// without its "GCC: " ("(Debian 12.2.0-14+deb12u1) 12.2.0") give
// "gcc-10=10.2.1-6" and "gcc-12=12.2.0-14+deb12u1".
func DebianCompiler(ident string) (string, error) {
	s := strings.TrimSpace(ident)
	if i := strings.Index(s, "("); i > 0 {
		s = s[i:]
	}
	inner, upstream, ok := strings.Cut(strings.TrimPrefix(s, "("), ")")
	version, isDebian := strings.CutPrefix(inner, "Debian ")
	if !ok || !strings.HasPrefix(s, "(") || !isDebian || version == "" || strings.ContainsAny(version, " \t") {
		return "", fmt.Errorf("%w: %q", ErrUnknownCompiler, ident)
	}
	major, _, _ := strings.Cut(strings.TrimSpace(upstream), ".")
	if major == "" || strings.Trim(major, "0123456789") != "" || !strings.HasPrefix(version, major+".") {
		return "", fmt.Errorf("%w: %q: version %q and upstream %q disagree", ErrUnknownCompiler, ident, version, strings.TrimSpace(upstream))
	}
	return "gcc-" + major + "=" + version, nil
}
