// SPDX-License-Identifier: Apache-2.0

//go:build unix

package procgroup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cancelling must stop the command's children too, and Run must return
// although a child held the output pipe.
func TestStopOnCancelStopsChildren(t *testing.T) {
	for _, tc := range []struct {
		name     string
		group    bool
		wantLate bool
	}{
		{name: "group", group: true, wantLate: false},
		{name: "plain command leaves its child", group: false, wantLate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			started, late := filepath.Join(dir, "started"), filepath.Join(dir, "late")
			script := "(sleep 2; touch " + late + ") &\ntouch " + started + "\nwait\n"
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", script)
			var out []byte
			if tc.group {
				StopOnCancel(cmd, time.Second)
			} else {
				cmd.WaitDelay = time.Second // the child holds the pipe: bound the wait
			}
			errc := make(chan error, 1)
			go func() {
				var err error
				out, err = cmd.CombinedOutput()
				errc <- err
			}()
			require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, 10*time.Second, 10*time.Millisecond)
			begin := time.Now()
			cancel()
			require.Error(t, <-errc, "output %q", out)
			assert.Less(t, time.Since(begin), 1500*time.Millisecond, "Wait returned within the wait delay")
			time.Sleep(2500 * time.Millisecond)
			if tc.wantLate {
				assert.FileExists(t, late, "without a group, only sh is killed")
			} else {
				assert.NoFileExists(t, late, "the child was stopped with sh")
			}
		})
	}
}
