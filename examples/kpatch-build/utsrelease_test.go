// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTargetReleaseDebianTree: without -a or a vmlinux, a Debian-style tree
// gives its UTS_RELEASE (what vermagic carries), not kernel.release.
func TestTargetReleaseDebianTree(t *testing.T) {
	tree := t.TempDir()
	for path, body := range map[string]string{
		"include/config/kernel.release":  "6.1.192\n",
		"include/generated/utsrelease.h": "#define UTS_RELEASE \"6.1.0-57-amd64\"\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(tree, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(tree, path), []byte(body), 0o644))
	}
	rel, err := targetRelease("", "", tree)
	require.NoError(t, err)
	assert.Equal(t, "6.1.0-57-amd64", rel)

	_, err = targetRelease("", "", t.TempDir())
	require.ErrorContains(t, err, "cannot tell the kernel release")
}
