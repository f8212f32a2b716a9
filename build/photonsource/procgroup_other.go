// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package photonsource

import (
	"os/exec"
	"time"
)

// stopGroupOnCancel bounds the wait for the output of a killed make.
func stopGroupOnCancel(cmd *exec.Cmd) { cmd.WaitDelay = 5 * time.Second }
