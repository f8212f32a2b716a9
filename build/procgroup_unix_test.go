// SPDX-License-Identifier: Apache-2.0

//go:build unix

package build

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cancelling the one-time `make <object>` must stop its sub-makes too:
// killing make alone left them writing the tree after Run had returned
// and released the tree's lock.
func TestMakeObjectCancelStopsChildren(t *testing.T) {
	tree, bin := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "fs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "fs/a.c"), nil, 0o644))
	started, late := filepath.Join(tree, "started"), filepath.Join(tree, "late")
	script := "#!/bin/sh\n(sleep 2; touch " + late + ") &\ntouch " + started + "\nwait\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "make"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	c := &compiler{tree: tree, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { _, err := c.command(ctx, "fs/a.o"); errc <- err }()
	require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	time.Sleep(3 * time.Second)
	assert.NoFileExists(t, late, "make's children were stopped with it")
}
