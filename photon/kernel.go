// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"fmt"
	"strings"
)

// Kernel is a Photon kernel identified by its uname -r string:
//
//	KVER "-" [ "rt" RTLEVEL "-" ] [ "rc" RC "." ] BUILD [ ".acvp" ] [ ".kat" ] ".ph" N [ "-" FLAVOR ]
//
// for example 5.10.118-3.ph4, 5.10.118-rt67-3.ph4-rt, 5.10.118-1.kat.ph4 or
// the dev branch's release candidates, 5.9.0-rc7.1.ph4-rt.
type Kernel struct {
	// Version is the upstream kernel version (5.10.118).
	Version Version
	// Build is the number in the package's RPM release (3 in 5.10.118-3.ph4).
	Build int
	// RTLevel is the rt patchset level that old rt kernels carry in their
	// uname (67 in 5.10.118-rt67-3.ph4-rt); 0 when absent.
	RTLevel int
	// RC is the release-candidate number of the dev branch's rc kernels,
	// whose RPM release starts with it (7 in 5.9.0-rc7.1.ph4-rt); 0 when
	// absent.
	RC int
	// Variant marks Photon's internal FIPS test builds.
	Variant Variant
	// Photon is the Photon release (4 for .ph4).
	Photon Release
	// Flavor is the kernel flavor; Generic when uname -r has no suffix.
	Flavor Flavor
}

// Variant is a FIPS test build marker from the RPM release: "", "acvp",
// "kat" or "acvp.kat".
type Variant string

// The variants Photon's specs can produce.
const (
	NoVariant Variant = ""
	ACVP      Variant = "acvp"
	KAT       Variant = "kat"
	ACVPKAT   Variant = "acvp.kat"
)

// ParseError reports a string that is not a Photon kernel release.
type ParseError struct {
	Input  string `json:"input"`
	Reason string `json:"reason"`
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("photon: %q is not a Photon kernel release (uname -r): %s", e.Input, e.Reason)
}

// maxUnameLen is the kernel's limit on uname fields (64 bytes incl. NUL).
const maxUnameLen = 64

// ParseKernel parses a Photon kernel release string as printed by uname -r.
// Every string it accepts prints back unchanged from Kernel.String.
func ParseKernel(s string) (Kernel, error) {
	k, reason := parseKernel(s)
	if reason != "" {
		return Kernel{}, &ParseError{Input: s, Reason: reason}
	}
	return k, nil
}

// MustParseKernel is ParseKernel for constants in programs and tests; it
// panics on a malformed string.
func MustParseKernel(s string) Kernel {
	k, err := ParseKernel(s)
	if err != nil {
		panic(err)
	}
	return k
}

func parseKernel(s string) (k Kernel, reason string) {
	if s == "" {
		return k, "empty string"
	}
	if len(s) >= maxUnameLen {
		return k, fmt.Sprintf("%d bytes long; uname -r holds at most %d", len(s), maxUnameLen-1)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '.' || c == '-') {
			return k, fmt.Sprintf("unexpected character %q at offset %d", c, i)
		}
	}

	// Anchor on the dist tag: the last ".ph" followed by a digit.
	at := strings.LastIndex(s, ".ph")
	if at < 0 || at+3 >= len(s) || s[at+3] < '0' || s[at+3] > '9' {
		return k, "no Photon dist tag .phN (expected e.g. 5.10.118-3.ph4)"
	}
	head, tail := s[:at], s[at+3:]

	// Tail: N ["-" FLAVOR]
	num, flavor, hasFlavor := strings.Cut(tail, "-")
	n, err := parseNumber(num)
	if err != nil {
		return k, fmt.Sprintf("Photon release in .ph%s: %v", num, err)
	}
	if n == 0 {
		return k, "Photon release .ph0 does not exist"
	}
	k.Photon = Release(n)
	k.Flavor = Generic
	if hasFlavor {
		f, ok := parseFlavor(flavor)
		if !ok {
			return k, fmt.Sprintf("unknown flavor %q (known: aws, esx, rt, secure; generic has no suffix)", flavor)
		}
		k.Flavor = f
	}

	// Head: KVER "-" ["rt" N "-"] BUILD [".acvp"] [".kat"]
	kver, rel, ok := strings.Cut(head, "-")
	if !ok {
		return k, `no "-" between kernel version and release (expected e.g. 5.10.118-3.ph4)`
	}
	v, err := ParseVersion(kver)
	if err != nil {
		return k, err.Error()
	}
	k.Version = v

	if strings.HasPrefix(rel, "rt") {
		level, rest, ok := strings.Cut(rel[2:], "-")
		if !ok {
			return k, fmt.Sprintf("rt level %q must be followed by \"-\" and the build number", rel)
		}
		if k.RTLevel, err = parseNumber(level); err != nil {
			return k, fmt.Sprintf("rt level: %v", err)
		}
		if k.RTLevel == 0 {
			return k, "rt level rt0 does not exist"
		}
		if k.Flavor != RT {
			return k, fmt.Sprintf("an rt level (rt%d) appears only in rt kernels, which end in -rt", k.RTLevel)
		}
		rel = rest
	}

	if after, ok := strings.CutPrefix(rel, "rc"); ok {
		rc, rest, ok := strings.Cut(after, ".")
		if !ok {
			return k, fmt.Sprintf("release candidate %q must be followed by \".\" and the build number (e.g. rc7.1)", rel)
		}
		if k.RC, err = parseNumber(rc); err != nil {
			return k, fmt.Sprintf("release candidate: %v", err)
		}
		if k.RC == 0 {
			return k, "release candidate rc0 does not exist"
		}
		rel = rest
	}

	build, variant, dotted := strings.Cut(rel, ".")
	if k.Build, err = parseNumber(build); err != nil {
		return k, fmt.Sprintf("release number: %v", err)
	}
	switch Variant(variant) {
	case NoVariant:
		if dotted {
			return k, "empty field between release number and dist tag (\"..ph\")"
		}
	case ACVP, KAT, ACVPKAT:
		k.Variant = Variant(variant)
	default:
		return k, fmt.Sprintf("unexpected %q between release number and dist tag (only .acvp and .kat builds exist)", "."+variant)
	}
	return k, ""
}

// String gives the uname -r string.
func (k Kernel) String() string {
	var b strings.Builder
	b.WriteString(k.Version.String())
	b.WriteByte('-')
	if k.RTLevel != 0 {
		fmt.Fprintf(&b, "rt%d-", k.RTLevel)
	}
	b.WriteString(k.RPMRelease())
	b.WriteString(k.Flavor.suffix())
	return b.String()
}

// RPMRelease is the kernel package's RPM release, e.g. "3.ph4", "1.kat.ph4"
// or "rc7.1.ph4".
func (k Kernel) RPMRelease() string {
	s := fmt.Sprint(k.Build)
	if k.RC != 0 {
		s = fmt.Sprintf("rc%d.%s", k.RC, s)
	}
	if k.Variant != NoVariant {
		s += "." + string(k.Variant)
	}
	return s + k.Photon.DistTag()
}

// Release returns the Photon release the kernel belongs to.
func (k Kernel) Release() Release { return k.Photon }

// Package is the kernel's package name: linux, linux-rt, linux-aws, ...
func (k Kernel) Package() string { return k.Flavor.Package() }

// LocalVersion is the CONFIG_LOCALVERSION that makes a build of this
// kernel's source report this uname -r: "-3.ph4" or "-3.ph4-rt". The rt level
// of old rt kernels is not part of it: those trees add "-rtNN" themselves
// from their localversion-rt file.
func (k Kernel) LocalVersion() string {
	return "-" + k.RPMRelease() + k.Flavor.suffix()
}

// SourceRPM is the file name of the kernel's source RPM, e.g.
// linux-rt-5.10.118-3.ph4.src.rpm (the rt level is not part of it).
func (k Kernel) SourceRPM() string {
	return fmt.Sprintf("%s-%s-%s.src.rpm", k.Package(), k.Version, k.RPMRelease())
}

// DebuginfoRPM is the file name of the kernel's x86_64 debuginfo RPM, e.g.
// linux-rt-debuginfo-5.10.118-3.ph4.x86_64.rpm.
func (k Kernel) DebuginfoRPM() string {
	return fmt.Sprintf("%s-debuginfo-%s-%s.x86_64.rpm", k.Package(), k.Version, k.RPMRelease())
}

// VmlinuxPath is where the debuginfo RPM installs the kernel's vmlinux.
func (k Kernel) VmlinuxPath() string {
	return fmt.Sprintf("/usr/lib/debug/lib/modules/%s/vmlinux-%s", k, k)
}

// ConfigFile names this kernel's x86_64 config file in its source RPM.
func (k Kernel) ConfigFile() (string, error) { return k.Flavor.ConfigFile(k.Photon) }

// Compare orders kernels as rpm orders their packages: by upstream version,
// then by RPM release (compared as rpm does). Kernels equal in both are
// ordered by flavor name and rt level so that the order is total.
func (k Kernel) Compare(o Kernel) int {
	if c := k.Version.Compare(o.Version); c != 0 {
		return c
	}
	if c := rpmvercmp(k.RPMRelease(), o.RPMRelease()); c != 0 {
		return c
	}
	if c := strings.Compare(string(k.Flavor), string(o.Flavor)); c != 0 {
		return c
	}
	return sign(k.RTLevel - o.RTLevel)
}

// threshold returns the kernel's version and build for support checks.
// A release candidate comes before every build of its version.
func (k Kernel) threshold() Threshold {
	if k.RC != 0 {
		return Threshold{k.Version, 0}
	}
	return Threshold{k.Version, k.Build}
}
