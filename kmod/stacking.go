// SPDX-License-Identifier: Apache-2.0

package kmod

import "github.com/klpkit/klpkit/internal/kver"

// Kernels before 5.1 (Photon 3.0's 4.19) keep livepatches in a stack with
// rules of their own: a disabled patch stays registered, its directory
// reading enabled 0, until its module is removed; only the topmost enabled
// patch may be disabled; a patch may be enabled (again) only when the one
// registered before it is enabled, which is also why a new patch cannot be
// loaded on top of a disabled one. Since 5.1 a disabled patch is freed and
// its directory goes.

// stackingEnforced reports a kernel before 5.1. An unreadable release
// counts as a modern kernel.
func (s *System) stackingEnforced() bool {
	rel, err := s.Release()
	if err != nil {
		return false
	}
	v, ok := kver.FromRelease(rel)
	return ok && v.Before(kver.AtomicReplace)
}

// newerPatch returns an enabled livepatch loaded after name, or "".
func (s *System) newerPatch(name string) string {
	var newer string
	for _, n := range s.livepatchModules() { // newest first
		if n == name {
			return newer
		}
		if s.patchEnabled(n) {
			newer = n
		}
	}
	return ""
}

// topDisabled returns, before 5.1, the newest registered patch when it is
// disabled: the kernel then refuses to enable a new patch above it.
func (s *System) topDisabled() string {
	if !s.stackingEnforced() {
		return ""
	}
	for _, n := range s.livepatchModules() { // newest first
		if !s.patchRegistered(n) {
			continue
		}
		if s.patchInactive(n) {
			return n
		}
		return ""
	}
	return ""
}
