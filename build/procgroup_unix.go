// SPDX-License-Identifier: Apache-2.0

//go:build unix

package build

import (
	"os/exec"
	"syscall"
)

// stopGroupOnCancel runs cmd in its own process group and kills the whole
// group when its context ends: killing make alone leaves its sub-makes
// writing the tree after Run has returned.
func stopGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
}
