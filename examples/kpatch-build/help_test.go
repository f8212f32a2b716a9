// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelpLikeUpstream: -h and --help print the usage on stderr and exit 0;
// no arguments prints it with "no patch file(s) specified" and exits 1, as
// upstream kpatch-build (README, "Help, exit status and JSON output").
func TestHelpLikeUpstream(t *testing.T) {
	for _, h := range []string{"-h", "--help"} {
		var out, errb bytes.Buffer
		require.NoError(t, run([]string{h}, &out, &errb), h)
		assert.Contains(t, errb.String(), "usage: kpatch-build", h)
		assert.Empty(t, out.String(), h)
	}
	var out, errb bytes.Buffer
	require.Error(t, run(nil, &out, &errb))
	assert.Contains(t, errb.String(), "usage: kpatch-build")
	assert.Contains(t, errb.String(), "ERROR: no patch file(s) specified.\n")
	assert.Empty(t, out.String())
}
