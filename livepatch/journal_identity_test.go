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

// A committed apply that deleted gone.c was killed after removing the
// original but before removing its journal; then someone made a new
// gone.c. Finishing the apply must not take that file for the original
// and remove it.
func TestRollForwardKeepsAFileCreatedLater(t *testing.T) {
	root := t.TempDir()
	j := `{"version":1,"committed":true,"entries":[{"path":"gone.c","old":".klpkit-orig-ab-0"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(root, journalName), []byte(j), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(root, "gone.c"), []byte("someone else's"), 0o644))
	require.NoError(t, Recover(root))
	data, err := os.ReadFile(filepath.Join(root, "gone.c"))
	require.NoError(t, err)
	assert.Equal(t, "someone else's", string(data))
	assert.NoFileExists(t, filepath.Join(root, journalName))
}

// A real apply journals the identity of each original it moves aside,
// which is what recovery checks before moving or removing anything.
func TestJournalRecordsTheOriginalsIdentity(t *testing.T) {
	root := copyTree(t, fixtureTree)
	patches := mustParse(t, fixture("cmdline-nupr.patch"))
	path := patches[0].Files[0].Path()
	want := fileIdentity(filepath.Join(root, filepath.FromSlash(path)))
	var seen *journal
	_, err := Apply(context.Background(), root, patches, &ApplyOptions{step: func() {
		if data, err := os.ReadFile(filepath.Join(root, journalName)); err == nil && seen == nil {
			seen, _ = decodeJournal(data)
		}
	}})
	require.NoError(t, err)
	require.NotNil(t, seen)
	for _, e := range seen.Entries {
		if e.Path == path {
			assert.Equal(t, want, e.Orig)
			return
		}
	}
	t.Fatalf("%s not in the journal", path)
}

// Validate judges lines against the tree, so a tree an apply left half
// written is refused, saying what to run.
func TestValidateRefusesInterruptedTree(t *testing.T) {
	root := copyTree(t, fixtureTree)
	require.NoError(t, os.WriteFile(filepath.Join(root, journalName), []byte(`{"version":1,"entries":[]}`), 0o600))
	_, err := Validate(context.Background(), mustParse(t, fixture("cmdline-nupr.patch")), &ValidateOptions{Tree: root})
	require.ErrorIs(t, err, ErrInterrupted)
	assert.Contains(t, err.Error(), root)
	assert.Contains(t, err.Error(), "Recover")
	require.NoError(t, Recover(root))
	_, err = Validate(context.Background(), mustParse(t, fixture("cmdline-nupr.patch")), &ValidateOptions{Tree: root})
	require.NoError(t, err)
}
