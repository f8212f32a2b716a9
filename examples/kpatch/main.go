// Command kpatch loads, unloads, installs and lists livepatch modules, like
// the kpatch tool of Photon OS and upstream dynup/kpatch, on package kmod.
//
// Usage, messages (kpatch: <msg> on stderr), exit codes (1 on any failure)
// and the layout of `kpatch list` follow kpatch, so scripts and tools that
// parse it (Cockpit, insights-core) keep working. kpatch.service beside this
// file runs `kpatch load --all` at boot unless the kernel command line has
// kpatch.enable=0.
package main

import (
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
