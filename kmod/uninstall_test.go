// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
)

// A module installed in both stores, and under two file names in one,
// is removed everywhere: a copy left behind would still load at boot.
func TestUninstallRemovesEveryCopy(t *testing.T) {
	e := newEnv(t, nil)
	photon, err := e.sys.Install(e.module(t, "a.ko", "a"), nil)
	require.NoError(t, err)
	photonXZ, err := e.sys.Install(e.module(t, "a.ko.xz", "a"), nil)
	require.NoError(t, err)
	e.sys.Store = kmod.StoreUpstream
	upstream, err := e.sys.Install(e.module(t, "a.ko", "a"), &kmod.InstallOptions{Overwrite: true})
	require.NoError(t, err)
	e.sys.Store = kmod.StorePhoton

	removed, err := e.sys.Uninstall("a", "")
	require.NoError(t, err)
	got := map[string]kmod.StoreLayout{}
	for _, r := range removed {
		got[r.Path] = r.Layout
	}
	assert.Equal(t, map[string]kmod.StoreLayout{photon: kmod.StorePhoton, photonXZ: kmod.StorePhoton, upstream: kmod.StoreUpstream}, got)
	inst, err := e.sys.Installed("")
	require.NoError(t, err)
	assert.Empty(t, inst, "no copy left to load at boot")
	assert.NoFileExists(t, upstream)
}
