// SPDX-License-Identifier: Apache-2.0

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// --toolchain is auto by default; host and a root directory are passed
// on as they are; anything else is refused before building.
func TestToolchainFlag(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainAuto}, c.got.Toolchain, "default")

	require.NoError(t, c.run("-s", c.tree, "--toolchain", "host", c.patch))
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainHost}, c.got.Toolchain)

	root := t.TempDir()
	require.NoError(t, c.run("-s", c.tree, "--toolchain", root, c.patch))
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainRoot, Dir: root}, c.got.Toolchain)

	for _, bad := range []string{filepath.Join(root, "missing"), c.patch} {
		err := c.run("-s", c.tree, "--toolchain", bad, c.patch)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "--toolchain", bad)
		assert.Contains(t, err.Error(), bad)
		assert.Nil(t, c.got, "nothing built for %q", bad)
	}
}
