// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package lab

import "os/exec"

// killProcessGroupOnCancel: without process groups, cancelling kills only cmd.
func killProcessGroupOnCancel(*exec.Cmd) {}
