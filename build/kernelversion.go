package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// kernelVersion is the upstream major.minor of a kernel: what decides
// which livepatch features it has.
type kernelVersion struct{ major, minor int }

func (v kernelVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v kernelVersion) before(o kernelVersion) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

// replaceSince is the first kernel with atomic replace (klp_patch.replace).
var replaceSince = kernelVersion{5, 1}

// earlyVmlinuxKlpRelocations is the first kernel that writes a module's
// vmlinux klp relocations while loading it, before it patches the
// module's alternatives and paravirt sites (see klp.CheckArchPatching).
var earlyVmlinuxKlpRelocations = kernelVersion{5, 8}

// releaseVersion reads the version a release (uname -r) starts with:
// "4.19.325-1.ph3" and "6.1.0-56-amd64" give 4.19 and 6.1. ok is false
// when the release does not start with <major>.<minor>.
func releaseVersion(release string) (v kernelVersion, ok bool) {
	majorText, rest, found := strings.Cut(release, ".")
	if !found {
		return v, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	major, ok1 := versionNumber(majorText)
	minor, ok2 := versionNumber(rest[:end])
	if !ok1 || !ok2 || major == 0 {
		return v, false
	}
	return kernelVersion{major, minor}, true
}

// versionNumber reads a release's number: decimal digits, no sign or
// leading zero, at most 255 (KERNEL_VERSION's field width).
func versionNumber(s string) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 255
}

// headersVersion reads LINUX_VERSION_CODE from a prepared tree's
// generated include/generated/uapi/linux/version.h.
func headersVersion(dir string) (v kernelVersion, ok bool) {
	data, err := os.ReadFile(filepath.Join(dir, "include", "generated", "uapi", "linux", "version.h"))
	if err != nil {
		return v, false
	}
	return versionCode(data)
}

// versionCode finds "#define LINUX_VERSION_CODE <n>" in a version.h; n
// packs major << 16 | minor << 8 | patch.
func versionCode(header []byte) (v kernelVersion, ok bool) {
	for _, line := range bytes.Split(header, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 3 && f[0] == "#define" && f[1] == "LINUX_VERSION_CODE" {
			code, err := strconv.ParseUint(f[2], 10, 24)
			if err != nil || code>>16 == 0 {
				return v, false
			}
			return kernelVersion{int(code >> 16), int(code>>8) & 0xff}, true
		}
	}
	return v, false
}

// targetVersion is the target kernel's version: from its release, else
// from the headers the module compiles against. ok is false when neither
// tells; the generated source still guards itself at compile time.
func targetVersion(t *Tree) (kernelVersion, bool) {
	if v, ok := releaseVersion(t.Release); ok {
		return v, true
	}
	for _, dir := range []string{t.KbuildDir, t.Dir} {
		if v, ok := headersVersion(dir); ok {
			return v, true
		}
	}
	return kernelVersion{}, false
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
	v, ok := releaseVersion(release)
	return replaceError(release, v, ok)
}

func replaceError(release string, v kernelVersion, known bool) error {
	if !known || !v.before(replaceSince) {
		return nil
	}
	return fmt.Errorf("kernel %s (Linux %s): %w: atomic replace needs Linux %s or later; build a non-replace module instead (Options.NoReplace, kpatch-build -R/--non-replace), which stacks on the livepatches already loaded",
		release, v, ErrReplaceUnsupported, replaceSince)
}

// vmlinuxKlpEarly tells klp.CheckArchPatching whether the target writes
// vmlinux klp relocations before patching the module's own code. An
// unknown version counts as a current kernel.
func (r *runner) vmlinuxKlpEarly() bool {
	return !r.kverKnown || !r.kver.before(earlyVmlinuxKlpRelocations)
}

// longSymbolsSince is the first kernel whose KSYM_NAME_LEN is 512; before
// it 128. The livepatch core looks up klp_func.old_name and the names in
// .klp.sym symbols with that limit (the terminating NUL included).
var longSymbolsSince = kernelVersion{6, 1}

// checkSymbolName refuses a name the target's livepatch core cannot look
// up: it would fail to load the module ("incorrectly formatted name" or
// EINVAL from klp_init_func).
func (r *runner) checkSymbolName(name string) error {
	limit := 511
	if r.kverKnown && r.kver.before(longSymbolsSince) {
		limit = 127
	}
	if len(name) <= limit {
		return nil
	}
	return fmt.Errorf("%w for kernel %s: symbol %s is %d characters long; the kernel's livepatch core looks up at most %d (KSYM_NAME_LEN): rename it in the patch",
		ErrUnsupportedPatch, r.tree.Release, name, len(name), limit)
}
