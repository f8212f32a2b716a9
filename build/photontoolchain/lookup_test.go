// SPDX-License-Identifier: Apache-2.0

package photontoolchain_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/photontoolchain"
	"github.com/klpkit/klpkit/photon"
)

// Lookup names the root ProvisionFor would return, and whether the cache
// holds it, from the metadata alone: no package is downloaded and no root
// built, before or after the root exists.
func TestLookup(t *testing.T) {
	signer, pub := testKey(t, "Photon Test")
	base := t.TempDir()
	// The rest of KernelBuild, in one package.
	tools := pkg{repo: "release", name: "build-tools", version: "1", release: "1.ph5", files: map[string]string{"/usr/bin/tar": "tar"},
		provides: []string{"coreutils", "sed", "grep", "findutils", "diffutils", "gzip", "xz", "tar", "cpio", "kmod", "bc", "bison", "flex", "perl", "elfutils-libelf-devel", "openssl-devel"}}
	writeRepos(t, base, signer, append(repoPackages(), tools))
	srv, rpms := serve(t, base)
	cache := t.TempDir()
	p := &photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL + "/nowhere", srv.URL}, SigningKeys: pub, CacheDir: cache}

	before, err := p.Lookup(t.Context(), "gcc (GCC) 12.2.0")
	require.NoError(t, err)
	assert.False(t, before.Cached)
	assert.Zero(t, rpms.Load(), "no package downloaded")
	assert.NoDirExists(t, before.Dir)
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written to the cache")
	assert.Equal(t, []string{srv.URL + "/5.0/photon_release_5.0_x86_64", srv.URL + "/5.0/photon_updates_5.0_x86_64"}, before.Repos,
		"the repositories of the base URL that served them")
	gcc, ok := before.List.Find("gcc")
	require.True(t, ok)
	assert.Equal(t, "12.2.0-2.ph5", gcc.Version)
	want, err := p.Resolve(t.Context(), "gcc (GCC) 12.2.0")
	require.NoError(t, err)
	assert.Equal(t, want, before.List, "the list ProvisionFor resolves")

	root, err := p.ProvisionFor(t.Context(), "gcc (GCC) 12.2.0")
	require.NoError(t, err)
	assert.Equal(t, before.Dir, root.Dir, "the root is where Lookup said")
	downloads := rpms.Load()
	after, err := p.Lookup(t.Context(), "gcc (GCC) 12.2.0")
	require.NoError(t, err)
	assert.True(t, after.Cached)
	assert.Equal(t, root.Dir, after.Dir)
	assert.Equal(t, downloads, rpms.Load())

	// Without signing keys, the root would be another one: not cached.
	unsigned := *p
	unsigned.SigningKeys = nil
	other, err := unsigned.Lookup(t.Context(), "gcc (GCC) 12.2.0")
	require.NoError(t, err)
	assert.False(t, other.Cached)
	assert.NotEqual(t, root.Dir, other.Dir)
	assert.Equal(t, filepath.Join(cache, "roots", "unsigned", filepath.Base(root.Dir)), other.Dir)

	_, err = (&photontoolchain.Provisioner{Release: photon.Release(5), BaseURLs: []string{srv.URL}}).Lookup(t.Context(), "gcc (GCC) 12.2.0")
	require.ErrorContains(t, err, "CacheDir is not set")
	_, err = p.Lookup(t.Context(), "clang version 16")
	require.ErrorIs(t, err, photontoolchain.ErrUnknownCompiler)
}
