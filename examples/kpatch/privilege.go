// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/klpkit/klpkit/kmod"
)

// privileges are what the process may do.
type privileges struct {
	root      bool // effective uid 0
	moduleCap bool // CAP_SYS_MODULE in the effective set
}

// needs says which privilege a command needs: loading, unloading and
// writing the livepatch control files (signal, force) need CAP_SYS_MODULE,
// which root in a container may lack; install and uninstall write the
// stores under /lib/modules and /var/lib/kpatch, which root (or anyone
// allowed to load modules) may do.
func (p privileges) allows(cmd string) bool {
	switch cmd {
	case "install", "uninstall":
		return p.root || p.moduleCap
	}
	return p.moduleCap
}

// requirePrivileges refuses cmd early, before the lock file under /run is
// opened, with a message saying to run as root. Without a privileges hook
// (tests with a fake kernel) everything is allowed.
func (a *app) requirePrivileges(cmd string) error {
	if a.privileges == nil {
		return nil
	}
	p := a.privileges()
	if p.allows(cmd) {
		return nil
	}
	if p.root {
		return fmt.Errorf("%s: running as root but without CAP_SYS_MODULE (a container without it cannot load modules): %w", cmd, kmod.ErrPermission)
	}
	return fmt.Errorf("%s: %w", cmd, kmod.ErrPermission)
}
