// SPDX-License-Identifier: Apache-2.0

package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sub", "f")
	require.NoError(t, WriteFile(name, []byte("one"), 0o600))
	require.NoError(t, WriteFile(name, []byte("two"), 0o644))
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, "two", string(data))
	st, err := os.Stat(name)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	assertOnly(t, filepath.Dir(name), "f")
}

func TestCopyFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	require.NoError(t, WriteFile(name, []byte("old"), 0o644))
	boom := errors.New("boom")
	err := Copy(name, 0o644, func(w io.Writer) error {
		_, _ = w.Write([]byte("half"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, "old", string(data), "a failed write never replaces the file")
	assertOnly(t, dir, "f")
}

func TestAbortAndDoubleCommit(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "f"), 0o644)
	require.NoError(t, err)
	f.Abort()
	f.Abort()
	assertOnly(t, dir)

	f, err = Create(filepath.Join(dir, "g"), 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	require.Error(t, f.Commit())
	f.Abort() // after Commit: nothing to do
	assertOnly(t, dir, "g")
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got, "no temporary files are left behind")
}
