// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"errors"
	"fmt"
)

// ErrNotLivepatchable is wrapped by every error that says klpkit cannot
// build a livepatch for a kernel.
var ErrNotLivepatchable = errors.New("kernel cannot be livepatched")

// SupportReason is the kind of a refusal, a stable code that programs
// branch on; SupportError.Detail says the rest in words. Each reason is
// also an error that errors.Is matches against a *SupportError of that
// reason:
//
//	errors.Is(err, photon.ReasonBelowThreshold)
type SupportReason string

// The reasons Livepatchable refuses a kernel for.
const (
	// ReasonArchNotSupported: Photon livepatching is x86_64 only.
	ReasonArchNotSupported SupportReason = "arch-not-supported"
	// ReasonReleaseTooOld: the Photon release predates livepatch support (3.0).
	ReasonReleaseTooOld SupportReason = "release-too-old"
	// ReasonUnknownRelease: a newer Photon release klpkit's matrix lacks.
	ReasonUnknownRelease SupportReason = "unknown-release"
	// ReasonUnknownFlavor: the release never shipped this flavor.
	ReasonUnknownFlavor SupportReason = "unknown-flavor"
	// ReasonFlavorNotSupported: the flavor is built without CONFIG_LIVEPATCH.
	ReasonFlavorNotSupported SupportReason = "flavor-not-supported"
	// ReasonBelowThreshold: the flavor has CONFIG_LIVEPATCH only from a
	// later build on.
	ReasonBelowThreshold SupportReason = "below-threshold"
	// ReasonBadBuild: the build is in a range known to break livepatches.
	ReasonBadBuild SupportReason = "bad-build"
)

// Error makes a reason usable as an errors.Is target; it is the code
// itself, so that a reason prints as its code.
func (r SupportReason) Error() string { return string(r) }

// SupportError says why a kernel cannot be livepatched. It matches
// ErrNotLivepatchable and its Reason with errors.Is.
type SupportError struct {
	Kernel Kernel        `json:"kernel"`
	Arch   string        `json:"arch"`
	Reason SupportReason `json:"reason"`
	// Detail says why in words, and what the support matrix expects.
	Detail string `json:"detail"`
}

func (e *SupportError) Error() string {
	return fmt.Sprintf("photon: %s cannot be livepatched: %s", e.Kernel, e.Detail)
}

// Is makes errors.Is(err, ErrNotLivepatchable) and errors.Is(err,
// e.Reason) true.
func (e *SupportError) Is(target error) bool {
	if r, ok := target.(SupportReason); ok {
		return r == e.Reason
	}
	return target == ErrNotLivepatchable
}

// Livepatchable returns nil when klpkit can build a livepatch for the
// kernel on x86_64, or a *SupportError saying why not.
func (k Kernel) Livepatchable() error { return k.LivepatchableOn("x86_64") }

// LivepatchableOn is Livepatchable for a given architecture, named as
// uname -m or GOARCH does (x86_64/amd64, aarch64/arm64, ...).
func (k Kernel) LivepatchableOn(arch string) error {
	refuse := func(reason SupportReason, format string, args ...any) error {
		return &SupportError{Kernel: k, Arch: arch, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
	switch arch {
	case "x86_64", "amd64":
	case "aarch64", "arm64":
		return refuse(ReasonArchNotSupported, "Photon's aarch64 kernels are built without CONFIG_LIVEPATCH; livepatching is supported on x86_64 only")
	default:
		return refuse(ReasonArchNotSupported, "architecture %q is not supported; Photon livepatching is x86_64 only", arch)
	}

	info, err := Lookup(k.Photon)
	if err != nil {
		if k.Photon < releases[0].Release {
			return refuse(ReasonReleaseTooOld, "Photon %s kernels have no livepatch support (it starts with 3.0)", k.Photon)
		}
		return refuse(ReasonUnknownRelease, "Photon %s is not in klpkit's support matrix yet (known: %s)", k.Photon, knownReleases())
	}
	fi, ok := info.Flavor(k.Flavor)
	if !ok {
		return refuse(ReasonUnknownFlavor, "Photon %s has no %s flavor", k.Photon, k.Flavor)
	}
	if !fi.Livepatch {
		return refuse(ReasonFlavorNotSupported, "%s", fi.Why)
	}
	if !fi.Since.isZero() && k.threshold().Compare(fi.Since) < 0 {
		return refuse(ReasonBelowThreshold, "%s kernels of Photon %s have CONFIG_LIVEPATCH from %s on", fi.Flavor.Package(), k.Photon, fi.Since)
	}
	for _, bad := range fi.Bad {
		if bad.contains(k.threshold()) {
			return refuse(ReasonBadBuild, "builds %s to %s are %s", bad.First, bad.Last, bad.Reason)
		}
	}
	return nil
}
