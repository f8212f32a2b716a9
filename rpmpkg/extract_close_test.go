// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

// openJournals counts this process's descriptors open on a journal under dir.
func openJournals(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("needs /proc/self/fd:", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir) && filepath.Base(target) == journalName {
			n++
		}
	}
	return n
}

// When undoing a failed extraction fails too (here a backup vanished),
// the journal is still closed; it stays on disk for the next extraction.
func TestExtractClosesJournalWhenUndoFails(t *testing.T) {
	raw := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/x.conf", "package"), reg("./etc/y", "y"),
		symlink("./etc/out", "/etc/passwd")}, true))
	dest := filepath.Join(t.TempDir(), "dest")
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/x.conf"), []byte("mine"), 0o600))
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{Progress: klpkit.On(func(e ExtractEvent) {
		if e.Name != "etc/y" {
			return
		}
		backups, _ := filepath.Glob(filepath.Join(dest, "etc", ".rpmpkg-old-*"))
		require.NotEmpty(t, backups)
		for _, b := range backups {
			require.NoError(t, os.Remove(b))
		}
	})})
	require.ErrorIs(t, err, ErrUnsafePath)
	require.ErrorContains(t, err, "restoring")
	assert.Zero(t, openJournals(t, dest), "journal closed")
	j, _ := filepath.Glob(filepath.Join(dest, workPrefix+"*", journalName))
	assert.Len(t, j, 1, "the journal stays for the next extraction")
}
