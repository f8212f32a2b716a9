// SPDX-License-Identifier: Apache-2.0

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// --build-user names who runs the tree's programs; --build-as-root opts
// out; the two together, root, or an unknown user are refused.
func TestBuildUserFlags(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-s", c.tree, "--build-user", "4242:4243", c.patch))
	assert.Equal(t, &build.BuildUser{UID: 4242, GID: 4243}, c.got.BuildUser)
	assert.False(t, c.got.BuildAsRoot)

	require.NoError(t, c.run("-s", c.tree, "--build-as-root", c.patch))
	assert.Nil(t, c.got.BuildUser)
	assert.True(t, c.got.BuildAsRoot)

	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Nil(t, c.got.BuildUser, "default: the library's (the tree's owner, else nobody)")
	assert.False(t, c.got.BuildAsRoot)

	for _, args := range [][]string{
		{"--build-user", "4242", "--build-as-root"},
		{"--build-user", "root"},
		{"--build-user", "no-such-user-klpkit"},
	} {
		err := c.run(append(append([]string{"-s", c.tree}, args...), c.patch)...)
		require.Error(t, err, "%q", args)
		assert.Contains(t, err.Error(), "--build-", "%q", args)
		assert.Nil(t, c.got, "nothing built for %q", args)
	}
}
