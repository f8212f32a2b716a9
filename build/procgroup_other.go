// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package build

import "os/exec"

// stopGroupOnCancel bounds the wait for the output of a killed command.
func stopGroupOnCancel(cmd *exec.Cmd) { cmd.WaitDelay = waitDelay }
