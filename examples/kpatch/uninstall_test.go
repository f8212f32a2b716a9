// SPDX-License-Identifier: Apache-2.0

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// A module installed in both stores is removed from both, and uninstall
// says where each copy was; the Photon store's module index is refreshed.
func TestUninstallBothStores(t *testing.T) {
	e := newCLI(t, nil)
	var depmods []string
	e.a.depmod = func(kver string) error { depmods = append(depmods, kver); return nil }
	p := e.module(t, "a.ko", "a")
	require.NoError(t, e.run("install", p))
	require.NoError(t, e.run("install", "--store=upstream", p))
	depmods = nil

	require.NoError(t, e.run("uninstall", "--store=upstream", "a"))
	photon := filepath.Join(e.k.Root, "lib/modules", kmodtest.DefaultRelease, "livepatches", "a.ko")
	upstream := filepath.Join(e.k.Root, "var/lib/kpatch", kmodtest.DefaultRelease, "a.ko")
	assert.Equal(t, "uninstalling a ("+kmodtest.DefaultRelease+")\n"+
		"removed "+upstream+" (upstream store)\n"+
		"removed "+photon+" (photon store)\n", e.out.String())
	assert.Equal(t, []string{kmodtest.DefaultRelease}, depmods)
	assert.NoFileExists(t, photon)
	assert.NoFileExists(t, upstream)

	require.NoError(t, e.run("list"))
	assert.Equal(t, "Loaded patch modules:\n\nInstalled patch modules:\n", e.out.String())
}
