// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/selfrpm"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// TestLabRepositoryResolvesKpatch checks the prepared lab (make lab-photon
// publishes make rpms' packages in it): `tdnf install kpatch` against its
// updates repository resolves klpkit's kpatch package for the lab's
// Photon release, and the package file is where primary.xml says.
func TestLabRepositoryResolvesKpatch(t *testing.T) {
	pl, err := Open(vmtest.RequireLab(t).Dir)
	require.NoError(t, err, "KLPKIT_VMTEST=1 but the Photon lab is not prepared (make lab-photon)")
	require.NotEmpty(t, pl.Packages, "the lab publishes klpkit's packages (make lab-photon: photonlab prepare --packages)")
	k, err := pl.Kernel()
	require.NoError(t, err)
	updates := filepath.Join(pl.RepoDir, "5.0/photon_updates_5.0_x86_64")
	pkgs := readPrimaryXML(t, updates)
	require.Equal(t, []string{selfrpm.KpatchName}, whatProvides(pkgs, primaryEntry{Name: "kpatch"}))
	for _, pkg := range pkgs {
		if pkg.Name == selfrpm.KpatchName {
			require.True(t, strings.HasSuffix(pkg.Version.Rel, k.Release().DistTag()), "release %s is for %s", pkg.Version.Rel, k.Release())
			require.FileExists(t, filepath.Join(updates, pkg.Location.Href))
		}
	}
}
