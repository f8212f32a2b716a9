// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/kver"
)

// replaceSince is the first kernel with atomic replace (klp_patch.replace).
var replaceSince = kver.AtomicReplace

// earlyVmlinuxKlpRelocations is the first kernel that writes a module's
// vmlinux klp relocations while loading it, before it patches the
// module's alternatives and paravirt sites (see klp.CheckArchPatching).
var earlyVmlinuxKlpRelocations = kver.Version{Major: 5, Minor: 8}

// headersVersion reads LINUX_VERSION_CODE from a prepared tree's
// generated include/generated/uapi/linux/version.h.
func headersVersion(dir string) (v kver.Version, ok bool) {
	data, err := os.ReadFile(filepath.Join(dir, "include", "generated", "uapi", "linux", "version.h"))
	if err != nil {
		return v, false
	}
	return versionCode(data)
}

// versionCode finds "#define LINUX_VERSION_CODE <n>" in a version.h; n
// packs major << 16 | minor << 8 | patch.
func versionCode(header []byte) (v kver.Version, ok bool) {
	for _, line := range bytes.Split(header, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 3 && f[0] == "#define" && f[1] == "LINUX_VERSION_CODE" {
			code, err := strconv.ParseUint(f[2], 10, 24)
			if err != nil || code>>16 == 0 {
				return v, false
			}
			return kver.Version{Major: int(code >> 16), Minor: int(code>>8) & 0xff}, true
		}
	}
	return v, false
}

// targetVersion is the target kernel's version: from its release, else
// from the headers the module compiles against. ok is false when neither
// tells; the generated source still guards itself at compile time.
func targetVersion(t *Tree) (kver.Version, bool) {
	if v, ok := kver.FromRelease(t.Release); ok {
		return v, true
	}
	for _, dir := range []string{t.KbuildDir, t.Dir} {
		if v, ok := headersVersion(dir); ok {
			return v, true
		}
	}
	return kver.Version{}, false
}

// checkReplace refuses a replace module for a kernel without atomic
// replace, as kpatch-build does, before anything is compiled.
func checkReplace(t *Tree, noReplace bool) error {
	if noReplace {
		return nil
	}
	v, ok := targetVersion(t)
	return replaceError(t.Release, v, ok)
}

// checkReplaceRelease is checkReplace for a release known before the tree.
func checkReplaceRelease(release string, noReplace bool) error {
	if noReplace {
		return nil
	}
	v, ok := kver.FromRelease(release)
	return replaceError(release, v, ok)
}

func replaceError(release string, v kver.Version, known bool) error {
	if !known || !v.Before(replaceSince) {
		return nil
	}
	return fmt.Errorf("kernel %s (Linux %s): %w: atomic replace needs Linux %s or later; build a non-replace module instead (Options.NoReplace, kpatch-build -R/--non-replace), which stacks on the livepatches already loaded",
		release, v, ErrReplaceUnsupported, replaceSince)
}

// vmlinuxKlpEarly tells klp.CheckArchPatching whether the target writes
// vmlinux klp relocations before patching the module's own code. An
// unknown version counts as a current kernel.
func (r *runner) vmlinuxKlpEarly() bool {
	return !r.versionKnown || !r.version.Before(earlyVmlinuxKlpRelocations)
}

// longSymbolsSince is the first kernel whose KSYM_NAME_LEN is 512; before
// it 128. The livepatch core looks up klp_func.old_name and the names in
// .klp.sym symbols with that limit (the terminating NUL included).
var longSymbolsSince = kver.Version{Major: 6, Minor: 1}

// checkSymbolName refuses a name the target's livepatch core cannot look
// up: it would fail to load the module ("incorrectly formatted name" or
// EINVAL from klp_init_func).
func (r *runner) checkSymbolName(name string) error {
	limit := 511
	if r.versionKnown && r.version.Before(longSymbolsSince) {
		limit = 127
	}
	if len(name) <= limit {
		return nil
	}
	return fmt.Errorf("%w for kernel %s: symbol %s is %d characters long; the kernel's livepatch core looks up at most %d (KSYM_NAME_LEN): rename it in the patch",
		ErrUnsupportedPatch, r.tree.Release, name, len(name), limit)
}
