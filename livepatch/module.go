// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/modname"
)

// MaxModuleNameLen is the longest module name the kernel accepts
// (MODULE_NAME_LEN is 56 bytes including the NUL).
const MaxModuleNameLen = 55

// ModuleName returns kpatch-build's module name: explicit (a trailing
// ".ko" dropped) when given, else "livepatch-<basename without
// .patch/.diff>" for one patch and "livepatch-patch" for several; then
// every character outside [A-Za-z0-9_-] becomes '-' and the name is cut to
// 55 characters.
func ModuleName(patchPaths []string, explicit string) (string, error) {
	name := strings.TrimSuffix(explicit, ".ko")
	switch {
	case name != "":
	case len(patchPaths) == 0:
		return "", fmt.Errorf("%w: no patches and no explicit name", ErrInvalidModule)
	case len(patchPaths) == 1:
		base := filepath.Base(patchPaths[0])
		base = strings.TrimSuffix(strings.TrimSuffix(base, ".patch"), ".diff")
		name = "livepatch-" + base
	default:
		name = "livepatch-patch"
	}
	return SanitizeModuleName(name), nil
}

// AutoLivepatchName returns auto_livepatch.sh's default name: the first 20
// characters of the first patch's basename up to its first '.', a '-', and
// the time as 02Jan2006-15_04_05 (e.g. CVE-2023-1234_netfil-27Nov2026-13_07_03).
// now is the caller's clock, in the zone the name should show.
func AutoLivepatchName(firstPatch string, now time.Time) string {
	base := filepath.Base(firstPatch)
	base, _, _ = strings.Cut(base, ".")
	if len(base) > 20 {
		base = base[:20]
	}
	return SanitizeModuleName(base + "-" + now.Format("02Jan2006-15_04_05"))
}

// SanitizeModuleName maps characters outside [A-Za-z0-9_-] to '-' and cuts
// the name to MaxModuleNameLen, as kpatch-build does.
func SanitizeModuleName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !nameChar(c) {
			b[i] = '-'
		}
	}
	if len(b) > MaxModuleNameLen {
		b = b[:MaxModuleNameLen]
	}
	return string(b)
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// KernelModuleName is the name the kernel uses (KBUILD_MODNAME, the sysfs
// directory under /sys/kernel/livepatch): '-' becomes '_'.
func KernelModuleName(name string) string {
	return modname.Kernel(strings.TrimSuffix(name, ".ko"))
}

// Module is a livepatch module's metadata.
type Module struct {
	// Name is the module file name without ".ko" (may contain '-').
	Name string
	// Description becomes MODULE_DESCRIPTION; free text.
	Description string
	// NonReplace turns off atomic replace (kpatch-build -R): by default a
	// new livepatch replaces all earlier ones (klp_patch.replace), which
	// kernels before 5.1 (Photon 3.0) do not support.
	NonReplace bool
}

// Replace reports the value of klp_patch.replace for this module.
func (m *Module) Replace() bool { return !m.NonReplace }

// License is the only module license a livepatch can have: the klp API is
// EXPORT_SYMBOL_GPL.
const License = "GPL"

// Validate checks the name against kbuild's and the kernel's rules.
func (m *Module) Validate() error {
	switch {
	case m.Name == "":
		return fmt.Errorf("%w: empty module name", ErrInvalidModule)
	case len(m.Name) > MaxModuleNameLen:
		return fmt.Errorf("%w: module name %q is %d characters; the kernel allows %d", ErrInvalidModule, m.Name, len(m.Name), MaxModuleNameLen)
	case strings.HasSuffix(m.Name, ".ko"):
		return fmt.Errorf("%w: module name %q must not end in .ko", ErrInvalidModule, m.Name)
	}
	for i := 0; i < len(m.Name); i++ {
		if !nameChar(m.Name[i]) {
			return fmt.Errorf("%w: module name %q has %q at position %d; use only letters, digits, '_' and '-' (SanitizeModuleName maps the rest)", ErrInvalidModule, m.Name, m.Name[i], i+1)
		}
	}
	return nil
}

// KernelName is the module's name in the kernel and sysfs.
func (m *Module) KernelName() string { return KernelModuleName(m.Name) }

// CDescription returns Description as the body of a C string literal:
// newlines and tabs fold to one space, trailing space is trimmed, quotes and
// backslashes are escaped, and other control characters are dropped.
func (m *Module) CDescription() string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(m.Description) {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == ' ':
			space = true
			continue
		case r < 0x20 || r == 0x7f:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '?':
			b.WriteString(`\?`) // no trigraphs, whatever the compiler flags
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
