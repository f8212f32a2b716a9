// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunnerCancelStopsTheGroup: a cancelled command's children (make's
// sub-makes and compilers) stop with it; they held the output pipe, so the
// run waited for them to finish on their own.
func TestRunnerCancelStopsTheGroup(t *testing.T) {
	requireTools(t, "sh", "sleep")
	r := &runner{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.run(ctx, t.TempDir(), nil, "sh", "-c", "sleep 60 & sleep 60; wait")
	require.Error(t, err)
	require.Less(t, time.Since(start), 20*time.Second, "the children were left running")
}
