// SPDX-License-Identifier: Apache-2.0

//go:build unix

package photonsource

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cancelling a kernel build must stop it, sub-makes and compilers
// included: killing make alone left its children running and holding
// the output pipe, so make returned only when they were all done.
func TestMakeCancelStopsChildren(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	fake := filepath.Join(dir, "make")
	// A make whose child keeps the output pipe open for a long time.
	script := "#!/bin/sh\nsleep 60 &\ntouch " + started + "\nwait\n"
	require.NoError(t, os.WriteFile(fake, []byte(script), 0o755))
	s := &Source{Make: fake, Jobs: 1}

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.make(ctx, dir, "vmlinux") }()
	require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, 10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("make did not return after cancellation: its children still hold the output pipe")
	}
}
