// SPDX-License-Identifier: Apache-2.0

// Command kpatch loads, unloads, installs and lists livepatch modules, like
// the kpatch tool of Photon OS and upstream dynup/kpatch, on package kmod.
//
// Usage, messages (kpatch: <msg> on stderr, progress on stdout), exit codes
// (1 on any failure, 0 on success) and the layout of `kpatch list` follow
// kpatch, so scripts and tools that parse it (Cockpit, insights-core) keep
// working; `kpatch list --json` is for programs.
//
// The install store is Photon's, /lib/modules/<kver>/livepatches (kpatch
// 0.9.8 on Photon 3.0-5.0); --store=upstream installs to
// /var/lib/kpatch/<kver>; both are read. Deliberate differences from kpatch:
//   - load --all loads every installed module even when one fails, and the
//     summary names the failures (kpatch stops at the first); it loads them
//     in install order, oldest first, so that the newest patch ends on top
//     (kpatch goes by file name, and livepatch-v10 sorts before -v9);
//   - load and unload accept either spelling of a name (- or _);
//   - load <path> does not copy the file into the store (Photon's 0.9.8
//     does, and fails after a successful load when given a bare name);
//   - install over an installed file fails, as upstream kpatch does
//     (Photon's 0.9.8 exits 0 without replacing it);
//   - install -k picks the store directory, not just the vermagic check;
//   - load --all skips loading when the kernel command line has
//     kpatch.enable=0 (kpatch.service checks that too);
//   - force exists (with a warning: the module can then never be removed);
//   - load --retire-older unloads the patch modules a cumulative
//     non-replace patch makes redundant; on kernels before 5.1 only with
//     --allow-unpatched-window, since the new patch must go down and up
//     again for the ones below it to leave.
//
// kpatch.service beside this file runs `kpatch load --all` at boot.
package main

import (
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
