// SPDX-License-Identifier: Apache-2.0

package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// --toolchain is auto by default; host and a root directory are taken as
// they are, and reach build.Options; anything else is refused.
func TestToolchainFlag(t *testing.T) {
	o, err := parse([]string{"-p", "a.patch"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainAuto}, o.toolchain, "default")

	o, err = parse([]string{"-p", "a.patch", "--toolchain", "host"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainHost}, o.toolchain)

	root := t.TempDir()
	o, err = parse([]string{"-p", "a.patch", "--toolchain", root}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, build.Toolchain{Mode: build.ToolchainRoot, Dir: root}, o.toolchain)
	a := &app{}
	bo := a.buildOptions(&job{o: o}, nil, t.TempDir(), nil)
	assert.Equal(t, o.toolchain, bo.Toolchain, "build.Options gets it")

	for _, bad := range []string{filepath.Join(root, "missing"), ""} {
		_, err := parse([]string{"-p", "a.patch", "--toolchain", bad}, io.Discard)
		if bad == "" {
			require.NoError(t, err, "an empty value is host")
			continue
		}
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "--toolchain")
		assert.Contains(t, err.Error(), bad)
	}
}
