// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/objdiff"
	"github.com/klpkit/klpkit/livepatch"
)

// ErrNoChanges is one value: whichever package found "no change", a
// caller branching on any package's ErrNoChanges sees it.
func TestErrNoChangesIsOneValue(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.c"), []byte("int a;\n"), 0o644))
	forth := "--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-int a;\n+int b;\n"
	back := "--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-int b;\n+int a;\n"
	var patches []*livepatch.Patch
	for i, text := range []string{forth, back} {
		p, err := livepatch.Parse(fmt.Sprintf("%d.patch", i), []byte(text), nil)
		require.NoError(t, err)
		patches = append(patches, p...)
	}
	_, combineErr := livepatch.Combine(context.Background(), root, patches)
	require.Error(t, combineErr, "a patch and its reverse change nothing")

	found := map[string]error{
		"livepatch.Combine":          combineErr,
		"objdiff.ErrOnlyLineNumbers": fmt.Errorf("fs/a.o: %w", objdiff.ErrOnlyLineNumbers),
		"build, wrapped":             fmt.Errorf("in 1 object(s): %w", build.ErrNoChanges),
	}
	for name, err := range found {
		for pkg, sentinel := range map[string]error{
			"klpkit": klpkit.ErrNoChanges, "build": build.ErrNoChanges,
			"objdiff": objdiff.ErrNoChanges, "livepatch": livepatch.ErrNoChanges,
		} {
			assert.True(t, errors.Is(err, sentinel), "%s is %s.ErrNoChanges", name, pkg)
		}
	}
	assert.NotErrorIs(t, errors.New("no functional changes found"), klpkit.ErrNoChanges, "the value, not the text")
}
