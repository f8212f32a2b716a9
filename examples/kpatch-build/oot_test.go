// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// --oot-module (or -e) and --oot-module-src become build.Options.OOTModule;
// without them the kernel is patched (nil).
func TestOOTModuleOptions(t *testing.T) {
	c := newCLI(t)
	src := t.TempDir()
	ko := filepath.Join(t.TempDir(), "klpkit_oot.ko")
	require.NoError(t, os.WriteFile(ko, []byte("\x7fELF"), 0o644))
	for _, flag := range []string{"--oot-module", "-e"} {
		require.NoError(t, c.run("-s", c.tree, flag, ko, "--oot-module-src", src, c.patch), flag)
		require.NotNil(t, c.got)
		assert.Equal(t, &build.OOTModule{Module: ko, Source: src}, c.got.OOTModule, flag)
		assert.Contains(t, c.out.String(), "Using out-of-tree module "+ko+", source "+src+"\n", flag)
		assert.Equal(t, c.tree, c.got.Source.(*build.Tree).Dir, "the kernel tree stays the build's tree")
	}
	require.NoError(t, c.run("-s", c.tree, c.patch))
	assert.Nil(t, c.got.OOTModule)
	assert.NotContains(t, c.out.String(), "out-of-tree")
}
