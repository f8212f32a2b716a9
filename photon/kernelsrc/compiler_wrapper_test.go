// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/ccwrap"
)

// A CC through a compiler wrapper is identified by the compiler behind it;
// the wrapper itself is not run, so none needs to be installed.
func TestLocalCompilerWrapped(t *testing.T) {
	plain := localCompiler(t)
	if plain == "" {
		t.Skip("needs gcc")
	}
	for _, cc := range []string{"ccache gcc", "CCACHE_DISABLE=1 ccache gcc", "/usr/bin/distcc gcc", "kpatch-cc ccache gcc"} {
		got, err := LocalCompiler(context.Background(), cc, t.TempDir())
		require.NoError(t, err, cc)
		assert.Equal(t, plain, got, cc)
	}
	_, err := LocalCompiler(context.Background(), "mywrap gcc", t.TempDir())
	require.ErrorIs(t, err, ccwrap.ErrUnknownWrapper)
	assert.Contains(t, err.Error(), "mywrap")
}
