// SPDX-License-Identifier: Apache-2.0

//go:build linux

package beneath

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A FIFO in a tree is refused at once, without waiting for a writer.
func TestReadFileFIFO(t *testing.T) {
	root, _ := tree(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600))
	_, _, err := ReadFile(root, "fifo", 0)
	assert.ErrorContains(t, err, "not a regular file")
	f, err := open(root, "fifo", true)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
