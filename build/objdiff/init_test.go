// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInitOnlyChangeRefused: an object whose only change is a string
// printed by __init code is refused, not "no changes": the patch does
// change the source, but nothing a livepatch can reach.
func TestInitOnlyChangeRefused(t *testing.T) {
	res, err := diffFixture(t, "init-string-only", nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoChanges)
	require.ErrorIs(t, err, ErrUnsupportedChange)
	var ue *UnsupportedError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, RuleInitChanged, ue.Rule)
	require.Equal(t, ".init.text", ue.Section)
	require.Contains(t, ue.Hint, "boot-time")
	require.Contains(t, err.Error(), "init-string-only.o")
	require.NotNil(t, res)
	require.Empty(t, res.Changed)
}

// TestInitStringWithOtherChanges: with a real change next to it, the init
// change is a warning and the object is patched (kpatch agrees, see the
// corpus cases altinstr_aux and oot-issue-928).
func TestInitStringWithOtherChanges(t *testing.T) {
	res, err := diffFixture(t, "init-string-and-code", nil)
	require.NoError(t, err)
	require.Equal(t, []string{"runtime_value"}, names(res.Changed))
	require.Contains(t, res.Warnings, ".init.text: only the strings or symbols referenced by init code changed; init code is not patched")
	for _, s := range res.Included {
		require.NotEqual(t, "setup_banner", s.Name, "init code is never included")
	}
}

// TestCorpusInitReferencesWarned: altinstr_aux changes what its .init.text
// references alongside a new function; it stays "changed", with a warning.
func TestCorpusInitReferencesWarned(t *testing.T) {
	dir, cases := loadCorpus(t)
	for _, c := range cases {
		if c.Case != "altinstr_aux" {
			continue
		}
		res, err := diffCorpusCase(t, dir, c)
		require.NoError(t, err)
		require.Contains(t, res.Warnings, ".init.text: only the strings or symbols referenced by init code changed; init code is not patched")
		return
	}
	t.Fatal("altinstr_aux not in the corpus")
}
