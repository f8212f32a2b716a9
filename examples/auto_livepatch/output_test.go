// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The RPM is written through internal/atomicfile: readable as a package
// is (0644, not a temporary file's 0600), and no temporary file is left.
func TestRPMFileMode(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--rpm"))
	fi, err := os.Stat(filepath.Join(out, "fix-1-1.ph5.x86_64.rpm"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "the module and the RPM only")
}
