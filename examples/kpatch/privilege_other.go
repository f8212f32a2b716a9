// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package main

import "os"

// currentPrivileges: without capabilities, root stands for them.
func currentPrivileges() privileges {
	root := os.Geteuid() == 0
	return privileges{root: root, moduleCap: root}
}
