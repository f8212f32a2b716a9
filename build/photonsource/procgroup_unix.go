// SPDX-License-Identifier: Apache-2.0

//go:build unix

package photonsource

import (
	"os/exec"
	"syscall"
	"time"
)

// stopGroupOnCancel runs cmd in its own process group and kills the whole
// group when its context ends: killing make alone leaves make -j's
// sub-makes and compilers building, and holding the output pipe, so Run
// would not return until they finished.
func stopGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}
