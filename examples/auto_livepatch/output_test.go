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

// A rebuild replaces the earlier module and RPM of the same names and
// says so; when the outputs cannot all be put in place, the earlier ones
// stay as they were.
func TestOutputsReplaceNeverSilently(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	ko, rpmFile := filepath.Join(out, "fix.ko"), filepath.Join(out, "fix-1-1.ph5.x86_64.rpm")
	args := []string{"-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--rpm"}
	require.NoError(t, c.run(args...))
	assert.NotContains(t, c.err.String(), "replaced")
	require.NoError(t, os.WriteFile(ko, []byte("earlier module"), 0o644))
	require.NoError(t, c.run(args...))
	assert.Contains(t, c.err.String(), "WARNING: replaced the earlier "+ko+"\n")
	assert.Contains(t, c.err.String(), "WARNING: replaced the earlier "+rpmFile+"\n")
	got, err := os.ReadFile(ko)
	require.NoError(t, err)
	assert.NotEqual(t, "earlier module", string(got))

	// The RPM's name is taken by a directory: nothing is replaced.
	require.NoError(t, os.WriteFile(ko, []byte("earlier module"), 0o644))
	require.NoError(t, os.Remove(rpmFile))
	require.NoError(t, os.MkdirAll(filepath.Join(rpmFile, "x"), 0o755))
	err = c.run(args...)
	require.ErrorContains(t, err, rpmFile+" is a directory")
	got, err = os.ReadFile(ko)
	require.NoError(t, err)
	assert.Equal(t, "earlier module", string(got), "the earlier module stays")
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no staging or aside files left")
}
