// SPDX-License-Identifier: Apache-2.0

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFuzzOption(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-p", c.patch))
	assert.Zero(t, c.got.Fuzz, "exact context by default")
	require.NoError(t, c.run("-p", c.patch, "--fuzz", "2", "-o", t.TempDir()))
	assert.Equal(t, 2, c.got.Fuzz)

	require.Error(t, c.run("-p", c.patch, "--fuzz", "-1"))
	assert.Contains(t, c.err.String(), "ERROR: --fuzz -1: the fuzz must be 0 or more\n")
	assert.Nil(t, c.got)
	require.NoError(t, c.run("-h"))
	assert.Contains(t, c.out.String(), "--fuzz <n>")
}
