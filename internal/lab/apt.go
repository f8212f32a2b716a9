// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Kernel names one Debian kernel ABI and its package version.
type Kernel struct {
	Release string // e.g. 6.1.0-56-amd64
	Version string // e.g. 6.1.192-2
}

// Package names of the lab kernel.
func (k Kernel) imagePackage() string   { return "linux-image-" + k.Release }
func (k Kernel) dbgPackage() string     { return "linux-image-" + k.Release + "-dbg" }
func (k Kernel) headersPackage() string { return "linux-headers-" + k.Release }

// sourcePackage is linux-source-<major.minor>, e.g. linux-source-6.1.
func (k Kernel) sourcePackage() string {
	parts := strings.SplitN(k.Release, ".", 3)
	if len(parts) < 2 {
		return "linux-source"
	}
	return "linux-source-" + parts[0] + "." + parts[1]
}

// releasePattern is a Debian kernel release, 6.1.0-56-amd64 or
// 6.1.0-56-rt-amd64; its group is the flavor.
var releasePattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-((?:rt-)?amd64)$`)

// resolveKernel asks apt which ABI the generation's linux-headers-<flavor>
// meta package points to (the security suite moves it) and the candidate
// version of that image.
func resolveKernel(ctx context.Context, r *runner, g Generation) (Kernel, error) {
	meta := "linux-headers-" + g.flavor()
	out, err := r.output(ctx, "", "apt-cache", "depends", meta)
	if err != nil {
		return Kernel{}, err
	}
	release, err := parseMetaDepends(out, "linux-headers-")
	if err != nil {
		return Kernel{}, fmt.Errorf("apt-cache depends %s: %w", meta, err)
	}
	if !g.owns(release) {
		return Kernel{}, fmt.Errorf("%s depends on linux-headers-%s, not a %s kernel", meta, release, g)
	}
	k := Kernel{Release: release}
	out, err = r.output(ctx, "", "apt-cache", "policy", k.imagePackage())
	if err != nil {
		return Kernel{}, err
	}
	k.Version, err = parseCandidate(out)
	if err != nil {
		return Kernel{}, fmt.Errorf("apt-cache policy %s: %w", k.imagePackage(), err)
	}
	return k, nil
}

// parseMetaDepends finds the "Depends: <prefix><release>" line in apt-cache
// depends output and returns the release.
func parseMetaDepends(out, prefix string) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		field, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || strings.TrimLeft(field, "|") != "Depends" {
			continue
		}
		value = strings.TrimSpace(value)
		release, ok := strings.CutPrefix(value, prefix)
		if ok && releasePattern.MatchString(release) {
			return release, nil
		}
	}
	return "", fmt.Errorf("no dependency on %s<6.1.0-NN-amd64> found (is apt-get update done?)", prefix)
}

// parseCandidate returns the "Candidate:" version of apt-cache policy output.
func parseCandidate(out string) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Candidate:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || v == "(none)" || strings.ContainsAny(v, " \t=") {
			return "", fmt.Errorf("no installable candidate (found %q)", v)
		}
		return v, nil
	}
	return "", fmt.Errorf("no Candidate line")
}

// parseInstalled reports whether dpkg-query -W -f '${Status} ${Version}'
// output says the package is installed at version.
func parseInstalled(out, version string) bool {
	return strings.TrimSpace(out) == "install ok installed "+version
}
