// SPDX-License-Identifier: Apache-2.0

//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// currentPrivileges asks the kernel for the effective capabilities
// (capget); where that fails, the effective uid stands for them.
func currentPrivileges() privileges {
	p := privileges{root: os.Geteuid() == 0}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		p.moduleCap = p.root
		return p
	}
	p.moduleCap = data[unix.CAP_SYS_MODULE/32].Effective&(1<<(unix.CAP_SYS_MODULE%32)) != 0
	return p
}
