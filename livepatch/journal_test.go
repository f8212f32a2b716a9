// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Recovery renames and removes what the journal names, so a journal that
// names anything outside the tree or beside-the-target staging is refused.
func TestRecoverRefusesHostileJournal(t *testing.T) {
	cases := []struct{ name, journal string }{
		{"path escapes", `{"version":1,"entries":[{"path":"../x","old":"../.klpkit-orig-1"}]}`},
		{"absolute path", `{"version":1,"entries":[{"path":"/etc/passwd","new":"/etc/.klpkit-new-1"}]}`},
		{"old elsewhere", `{"version":1,"entries":[{"path":"a","old":"b/.klpkit-orig-1"}]}`},
		{"new not staged", `{"version":1,"entries":[{"path":"a","new":"victim"}]}`},
		{"dir escapes", `{"version":1,"dirs":["../d"],"entries":[]}`},
		{"version", `{"version":7,"entries":[]}`},
		{"not json", `{"version":1,`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(root, "victim"), []byte("x"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(root, journalName), []byte(tc.journal), 0o600))
			err := Recover(root)
			require.Error(t, err)
			assert.Contains(t, err.Error(), journalName)
			data, rerr := os.ReadFile(filepath.Join(root, "victim"))
			require.NoError(t, rerr)
			assert.Equal(t, "x", string(data))
		})
	}
}

func TestRecoverWithoutJournalDoesNothing(t *testing.T) {
	root := copyTree(t, fixtureTree)
	before := snapshot(t, root)
	require.NoError(t, Recover(root))
	assert.Equal(t, before, snapshot(t, root))
	require.Error(t, Recover(filepath.Join(root, "no-such-dir")))
}

// A dry run cannot recover (it changes nothing), so it says the tree needs it.
func TestDryRunRefusesInterruptedTree(t *testing.T) {
	root := copyTree(t, fixtureTree)
	require.NoError(t, os.WriteFile(filepath.Join(root, journalName), []byte(`{"version":1,"entries":[]}`), 0o600))
	_, err := Apply(context.Background(), root, mustParse(t, fixture("cmdline-nupr.patch")), &ApplyOptions{DryRun: true})
	require.ErrorIs(t, err, ErrInterrupted)
	_, err = Apply(context.Background(), root, mustParse(t, fixture("cmdline-nupr.patch")), nil)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(root, journalName))
}
