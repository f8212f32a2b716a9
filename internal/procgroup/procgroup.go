// SPDX-License-Identifier: Apache-2.0

// Package procgroup stops a command together with the processes it forked.
//
// Killing make alone on cancel leaves make -j's sub-makes and compilers
// running: they keep writing the tree after the caller has returned (and
// released the tree's lock) and hold the output pipe, so Wait would not
// return until they finished.
package procgroup

import (
	"os/exec"
	"time"
)

// StopOnCancel makes cancelling cmd's context kill cmd's whole process group
// (on Unix; elsewhere only cmd), and bounds by waitDelay the wait for output
// pipes a killed grandchild still holds. Call it before cmd starts.
func StopOnCancel(cmd *exec.Cmd, waitDelay time.Duration) {
	setGroup(cmd)
	cmd.WaitDelay = waitDelay
}
