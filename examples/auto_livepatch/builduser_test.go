// SPDX-License-Identifier: Apache-2.0

package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// --build-user names who runs make and the compiler in the prepared tree;
// --build-as-root opts out; the two together, root, or an unknown user are
// refused.
func TestBuildUserFlags(t *testing.T) {
	o, err := parse([]string{"-p", "a.patch", "--build-user", "4242:4243"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, &build.BuildUser{UID: 4242, GID: 4243}, o.buildUser)
	assert.False(t, o.buildAsRoot)

	o, err = parse([]string{"-p", "a.patch", "--build-as-root"}, io.Discard)
	require.NoError(t, err)
	assert.Nil(t, o.buildUser)
	assert.True(t, o.buildAsRoot)

	for _, args := range [][]string{
		{"--build-user", "4242", "--build-as-root"},
		{"--build-user", "root"},
		{"--build-user", "no-such-user-klpkit"},
	} {
		_, err := parse(append([]string{"-p", "a.patch"}, args...), io.Discard)
		require.Error(t, err, "%q", args)
		assert.Contains(t, err.Error(), "--build-", "%q", args)
	}
}
