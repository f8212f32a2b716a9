// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When a write fails and then restoring a moved-aside original fails too,
// the original must stay on disk (as its backup), never be cleaned away.
func TestApplyKeepsOriginalWhenRollbackFails(t *testing.T) {
	patches := mustParse(t, fixture("cmdline-nupr.patch"))
	root := copyTree(t, fixtureTree)
	pristine := snapshot(t, root)
	opts := &ApplyOptions{rename: func(a, b string) error {
		if strings.Contains(a, ".klpkit-new-") || strings.Contains(a, ".klpkit-orig") {
			return errors.New("injected rename failure")
		}
		return os.Rename(a, b)
	}}
	_, err := Apply(context.Background(), root, patches, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the original is kept as")

	after := map[string]bool{}
	for _, st := range snapshot(t, root) {
		after[st.Data] = true
	}
	for path, st := range pristine {
		assert.True(t, after[st.Data], "the content of %s is lost", path)
	}
}
