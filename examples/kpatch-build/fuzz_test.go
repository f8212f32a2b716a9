// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

func TestFuzzOption(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Zero(t, c.got.Fuzz, "exact context by default")
	require.NoError(t, c.run("-s", c.tree, "--fuzz", "2", c.patch))
	assert.Equal(t, 2, c.got.Fuzz)
	require.NoError(t, c.run("-s", c.tree, "--fuzz=1", c.patch))
	assert.Equal(t, 1, c.got.Fuzz)

	require.Error(t, c.run("-s", c.tree, "--fuzz", "-1", c.patch))
	assert.Contains(t, c.err.String(), "ERROR: --fuzz -1: the fuzz must be 0 or more.\n")
	assert.Nil(t, c.got)
	require.Error(t, c.run("-s", c.tree, "--fuzz", "x", c.patch))
	assert.Contains(t, c.err.String(), "--fuzz")
	assert.Contains(t, c.err.String(), "usage: kpatch-build", "the help names --fuzz")
	assert.Contains(t, c.err.String(), "--fuzz N")
}

// TestPlacedHunkProgress: a stage that reports a second start (a hunk
// placed with fuzz) prints kpatch-build's status line once, and the
// placement on stderr.
func TestPlacedHunkProgress(t *testing.T) {
	var out, errw bytes.Buffer
	p := newProgress(&out, &errw, false)
	p.event(build.Event{Stage: build.StagePatch, Message: "testing patch file(s)", Total: 1})
	p.event(build.Event{Stage: build.StagePatch, Message: "hunk placed inexactly: p.patch: kernel/exit.c: hunk #2 applied at line 871 with fuzz 2, offset 3 lines", Total: 1})
	p.event(build.Event{Stage: build.StagePatch, Message: "patches apply", Done: 1, Total: 1})
	p.finish()
	assert.Equal(t, "Testing patch file(s)\n", out.String())
	assert.Contains(t, errw.String(), "[patch 0/1] hunk placed inexactly: p.patch: kernel/exit.c: hunk #2 applied at line 871 with fuzz 2, offset 3 lines\n")
}
