// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"os"

	"github.com/klpkit/klpkit/internal/kver"
)

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

// patchEnabled reports that name's sysfs directory reads enabled 1: the
// patch is live or on its way to being live.
func (s *System) patchEnabled(name string) bool {
	on, _ := s.readBool(s.livepatchPath(name, "enabled"))
	return on
}

// patchInactive reports that name patches nothing and is not on its way to:
// its directory is gone (5.1 and later free a disabled patch) or it reads
// enabled 0 outside a transition (before 5.1).
func (s *System) patchInactive(name string) bool {
	if _, err := os.Stat(s.livepatchPath(name)); os.IsNotExist(err) {
		return true
	}
	if s.patchEnabled(name) {
		return false
	}
	inTransition, ok := s.readBool(s.livepatchPath(name, "transition"))
	return ok && !inTransition
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
		if !fileExists(s.livepatchPath(n)) {
			continue
		}
		if s.patchInactive(n) {
			return n
		}
		return ""
	}
	return ""
}
