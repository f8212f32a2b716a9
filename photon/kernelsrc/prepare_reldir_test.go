// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/photon"
)

// A relative Dir (auto_livepatch --work work) must work: %prep's commands
// run inside the tree, where a relative %{_sourcedir} names nothing.
func TestPrepareRelativeDir(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("5.10.118-3.ph4")
	repo := &Repo{Dir: buildRepo(t, []string{k.String()}, repoOptions{})}
	srpm, err := repo.Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	src, err := Prepare(context.Background(), k, srpm, "", &PrepareOptions{Dir: "work", SkipCompilerCheck: true})
	require.NoError(t, err)
	require.True(t, filepath.IsAbs(src.Tree), "tree %q", src.Tree)
	require.FileExists(t, src.Config)
}
