// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package procgroup

import "os/exec"

// setGroup: without process groups, cancelling kills only cmd.
func setGroup(*exec.Cmd) {}
