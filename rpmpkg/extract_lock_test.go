// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A failed extraction removes the parents of dest it created, not only
// dest; the ones that were there stay.
func TestExtractFailureRemovesCreatedParents(t *testing.T) {
	bad := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/a", "a"), symlink("./etc/out", "/etc/passwd")}, true))
	top := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(top, "kept"), 0o755))
	dest := filepath.Join(top, "kept", "a", "b", "dest")
	_, err := Extract(context.Background(), bytes.NewReader(bad), dest, nil)
	require.ErrorIs(t, err, ErrUnsafePath)
	_, err = os.Stat(filepath.Join(top, "kept", "a"))
	assert.ErrorIs(t, err, os.ErrNotExist, "created parents removed")
	_, err = os.Stat(filepath.Join(top, "kept"))
	assert.NoError(t, err, "a parent that was there stays")
}

// Extractions into sibling dests under parents none of them found take
// turns creating those parents: a failing one removing what it created
// never makes a succeeding one fail.
func TestExtractSiblingsShareCreatedParents(t *testing.T) {
	good := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/a", "a")}, true))
	bad := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/a", "a"), symlink("./etc/out", "/etc/passwd")}, true))
	for round := range 10 {
		top := filepath.Join(t.TempDir(), "p", "q")
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				raw := good
				if i%2 == 1 {
					raw = bad
				}
				_, errs[i] = Extract(context.Background(), bytes.NewReader(raw), filepath.Join(top, fmt.Sprint(i)), nil)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if i%2 == 1 {
				require.ErrorIs(t, err, ErrUnsafePath, "round %d, %d", round, i)
				continue
			}
			require.NoError(t, err, "round %d, %d", round, i)
			got, err := os.ReadFile(filepath.Join(top, fmt.Sprint(i), "etc/a"))
			require.NoError(t, err)
			assert.Equal(t, "a", string(got))
		}
	}
}
