package photon

import (
	"errors"
	"fmt"
)

// ErrNotLivepatchable is wrapped by every error that says klpkit cannot
// build a livepatch for a kernel.
var ErrNotLivepatchable = errors.New("kernel cannot be livepatched")

// SupportError says why a kernel cannot be livepatched. It matches
// ErrNotLivepatchable with errors.Is.
type SupportError struct {
	Kernel Kernel
	Arch   string
	Reason string
}

func (e *SupportError) Error() string {
	return fmt.Sprintf("photon: %s cannot be livepatched: %s", e.Kernel, e.Reason)
}

// Is makes errors.Is(err, ErrNotLivepatchable) true.
func (e *SupportError) Is(target error) bool { return target == ErrNotLivepatchable }

// Livepatchable returns nil when klpkit can build a livepatch for the
// kernel on x86_64, or a *SupportError saying why not.
func (k Kernel) Livepatchable() error { return k.LivepatchableOn("x86_64") }

// LivepatchableOn is Livepatchable for a given architecture, named as
// uname -m or GOARCH does (x86_64/amd64, aarch64/arm64, ...).
func (k Kernel) LivepatchableOn(arch string) error {
	refuse := func(format string, args ...any) error {
		return &SupportError{Kernel: k, Arch: arch, Reason: fmt.Sprintf(format, args...)}
	}
	switch arch {
	case "x86_64", "amd64":
	case "aarch64", "arm64":
		return refuse("Photon's aarch64 kernels are built without CONFIG_LIVEPATCH; livepatching is supported on x86_64 only")
	default:
		return refuse("architecture %q is not supported; Photon livepatching is x86_64 only", arch)
	}

	info, err := Lookup(k.Photon)
	if err != nil {
		if k.Photon < releases[0].Release {
			return refuse("Photon %s kernels have no livepatch support (it starts with 3.0)", k.Photon)
		}
		return refuse("Photon %s is not in klpkit's support matrix yet (known: %s)", k.Photon, knownReleases())
	}
	fi, ok := info.Flavor(k.Flavor)
	if !ok {
		return refuse("Photon %s has no %s flavor", k.Photon, k.Flavor)
	}
	if !fi.Livepatch {
		return refuse("%s", fi.Why)
	}
	if !fi.Since.isZero() && k.threshold().Compare(fi.Since) < 0 {
		return refuse("%s kernels of Photon %s have CONFIG_LIVEPATCH from %s on", fi.Flavor.Package(), k.Photon, fi.Since)
	}
	for _, bad := range fi.Bad {
		if bad.contains(k.threshold()) {
			return refuse("builds %s to %s are %s", bad.First, bad.Last, bad.Reason)
		}
	}
	return nil
}
