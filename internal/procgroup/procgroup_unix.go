// SPDX-License-Identifier: Apache-2.0

//go:build unix

package procgroup

import (
	"os/exec"
	"syscall"
)

// setGroup starts cmd in a process group of its own and kills the group,
// not only cmd, when its context ends.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
