// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"path"
	"strings"
)

// nonPatchable lists tree prefixes whose code never runs as patchable
// kernel text: kpatch-build skips their objects or refuses the patch.
var nonPatchable = []struct{ prefix, why string }{
	{"lib/", "lib/ is linked into lib.a and other special places that kpatch-build refuses (\"unsupported patch to lib/\"); move the fix to a caller outside lib/ or ship a kernel update"},
	{"arch/x86/boot/", "boot code runs before the kernel and is never live patched"},
	{"arch/x86/entry/vdso/", "the vDSO is mapped into user space and is not live patched"},
	{"arch/x86/vdso/", "the vDSO is mapped into user space and is not live patched"},
	{"arch/x86/purgatory/", "purgatory runs between kernels (kexec) and is not live patched"},
	{"arch/x86/realmode/", "real-mode trampolines are not live patched"},
	{"arch/x86/tools/", "build-time tools are not part of the running kernel"},
	{"drivers/firmware/efi/libstub/", "the EFI stub runs before the kernel and is not live patched"},
	{"tools/", "tools/ builds user-space programs, not the running kernel"},
	{"scripts/", "scripts/ holds build tools, not the running kernel"},
	{"init/version.c", "version data is ignored by the object differ"},
}

// checkPath applies the rules that depend on the file name alone. It
// returns true when the file needs no further checks.
func (c *fileCheck) checkPath() bool {
	p, base := c.path, path.Base(c.path)
	changed := c.hasChangedLines()
	switch {
	case strings.HasSuffix(p, ".S") || strings.HasSuffix(p, ".s"):
		c.v.codeChanged = c.v.codeChanged || changed
		c.finding(RuleAsmFile, SeverityError, 0, "", "assembly files cannot be live patched (kpatch-build: \"unsupported patch to assembly\"): functions written in assembly have no ftrace entry; change C code instead, or ship a kernel update")
		return true
	case strings.HasPrefix(p, "Documentation/"):
		c.finding(RuleDocumentation, SeverityWarning, 0, "", "documentation changes do nothing in a live patch; drop them from the patch to keep it minimal")
		return true
	case base == "Makefile" || base == "Kbuild" || strings.HasPrefix(base, "Kconfig") || strings.HasSuffix(base, ".mk"):
		what := "build rules (compiler flags, object lists) of the running kernel cannot change; a new .c file must be compiled into an existing object instead"
		if strings.HasPrefix(base, "Kconfig") {
			what = "the running kernel's configuration cannot change; a live patch is built with the exact .config of the target kernel"
		}
		c.finding(RuleBuildFile, SeverityError, 0, "", fmt.Sprintf("change to %s: %s; drop this file from the patch", base, what))
		return true
	}
	for _, np := range nonPatchable {
		if strings.HasPrefix(p, np.prefix) || p == np.prefix {
			c.v.codeChanged = c.v.codeChanged || (changed && isCSource(p))
			c.finding(RuleNonPatchablePath, SeverityError, 0, "", np.why)
			return true
		}
	}
	if !isCSource(p) {
		c.finding(RuleNonSource, SeverityWarning, 0, "", "this file is not C source; it has no effect on the live patch module")
		return true
	}
	return false
}

func isCSource(p string) bool {
	return strings.HasSuffix(p, ".c") || strings.HasSuffix(p, ".h")
}

func (c *fileCheck) hasChangedLines() bool {
	for _, h := range c.f.Hunks {
		for _, l := range h.Lines {
			if l.Kind != ' ' {
				return true
			}
		}
	}
	return false
}
