// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtureArchive(t *testing.T) (*fakeArchive, *Debian) {
	key := newKey(t, "archive")
	a := newFakeArchive(t, key,
		fakeDeb{name: "tool", version: "1.0-1", extra: "Depends: libtool0 (>= 1.0)\n", deb: makeDeb(t, ".xz",
			dirEntry("./usr/"), dirEntry("./usr/bin/"), file("./usr/bin/tool", "#!/bin/sh\n"), symlink("./usr/bin/tool-1", "/usr/bin/tool"))},
		fakeDeb{name: "libtool0", version: "1.1-1", deb: makeDeb(t, ".zst", dirEntry("./usr/"), dirEntry("./usr/lib/"), file("./usr/lib/libtool.so.0", "lib"))},
	)
	return a, a.debian(key)
}

func TestProvision(t *testing.T) {
	a, d := fixtureArchive(t)
	ctx := context.Background()
	list, err := d.Resolve(ctx, []string{"tool"})
	require.NoError(t, err)
	require.Equal(t, []string{"libtool0=1.1-1", "tool=1.0-1"}, names(list))

	c := &Cache{Dir: t.TempDir(), Client: a.srv.Client()}
	_, ok := c.Lookup(list)
	require.False(t, ok)

	// Concurrent provisioning of one list builds it once.
	var wg sync.WaitGroup
	roots := make([]*Root, 4)
	errs := make([]error, 4)
	for i := range roots {
		wg.Go(func() { roots[i], errs[i] = c.Provision(ctx, list) })
	}
	wg.Wait()
	for i := range roots {
		require.NoError(t, errs[i])
		assert.Equal(t, roots[0].Dir, roots[i].Dir)
	}
	assert.Equal(t, 1, a.hits["/pool/main/tool_1.0-1_amd64.deb"], "downloaded once")
	root := roots[0]
	assert.Equal(t, filepath.Join(c.Dir, list.Key()), root.Dir)

	data, err := os.ReadFile(filepath.Join(root.Dir, "usr/bin/tool-1"))
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/sh\n", string(data))
	data, err = os.ReadFile(filepath.Join(root.Dir, ListFile))
	require.NoError(t, err)
	back, err := ParseList(string(data))
	require.NoError(t, err)
	assert.Equal(t, list, back, "the root is reproducible from its list")

	found, ok := c.Lookup(list)
	require.True(t, ok)
	assert.Equal(t, root.Dir, found.Dir)
	entries, err := os.ReadDir(c.Dir)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.ElementsMatch(t, []string{list.Key(), list.Key() + ".lock"}, left, "no temporary directories left")
}

func TestProvisionChecksumMismatch(t *testing.T) {
	a, d := fixtureArchive(t)
	ctx := context.Background()
	list, err := d.Resolve(ctx, []string{"tool"})
	require.NoError(t, err)
	// The mirror serves another file than the signed index names.
	a.set("/pool/main/tool_1.0-1_amd64.deb", makeDeb(t, ".xz", file("./usr/bin/tool", "#!/bin/sh\nevil\n")))

	c := &Cache{Dir: t.TempDir(), Client: a.srv.Client()}
	_, err = c.Provision(ctx, list)
	require.ErrorIs(t, err, ErrChecksumMismatch)
	assert.ErrorContains(t, err, "tool 1.0-1")
	_, ok := c.Lookup(list)
	assert.False(t, ok)
	entries, err := os.ReadDir(c.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the lock file: no half-built root")
	assert.Equal(t, list.Key()+".lock", entries[0].Name())
}

func TestProvisionHalfBuiltRootIsRebuilt(t *testing.T) {
	a, d := fixtureArchive(t)
	ctx := context.Background()
	list, err := d.Resolve(ctx, []string{"tool"})
	require.NoError(t, err)
	c := &Cache{Dir: t.TempDir(), Client: a.srv.Client()}
	// What a crash leaves: a temporary directory, and a final one
	// without its list.
	require.NoError(t, os.MkdirAll(filepath.Join(c.Dir, ".tmp-"+list.Key()+"-123", "usr"), 0o555))
	require.NoError(t, os.MkdirAll(filepath.Join(c.Dir, list.Key(), "usr/bin"), 0o755))
	root, err := c.Provision(ctx, list)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root.Dir, "usr/lib/libtool.so.0"))
	assert.NoDirExists(t, filepath.Join(c.Dir, ".tmp-"+list.Key()+"-123"))
}

func TestProvisionRefuses(t *testing.T) {
	_, err := (&Cache{}).Provision(context.Background(), List{{Name: "a"}})
	require.ErrorContains(t, err, "Dir is not set")
	_, err = (&Cache{Dir: t.TempDir()}).Provision(context.Background(), nil)
	require.ErrorContains(t, err, "empty package list")
	// An entry without a strong digest is never downloaded.
	dir := t.TempDir()
	_, err = (&Cache{Dir: dir}).Provision(context.Background(), List{{Name: "gcc", Version: "1", Size: 1, URL: "http://127.0.0.1:1/gcc.rpm"}})
	require.ErrorContains(t, err, "gcc 1: bad or missing SHA-256")
	entries, _ := os.ReadDir(dir)
	require.Empty(t, entries, "a refused list makes nothing in the cache")
}

func TestProvisionLinksEscapingTogether(t *testing.T) {
	key := newKey(t, "archive")
	a := newFakeArchive(t, key,
		fakeDeb{name: "one", version: "1", extra: "Depends: two\n", deb: makeDeb(t, ".gz", symlink("./a", "."))},
		fakeDeb{name: "two", version: "1", deb: makeDeb(t, ".gz", symlink("./b", "a/.."))},
	)
	ctx := context.Background()
	list, err := a.debian(key).Resolve(ctx, []string{"one"})
	require.NoError(t, err)
	c := &Cache{Dir: t.TempDir(), Client: a.srv.Client()}
	_, err = c.Provision(ctx, list)
	require.ErrorIs(t, err, ErrUnsafePath)
	assert.ErrorContains(t, err, "b: symlink to \"a/..\" leads out of the root")
	_, ok := c.Lookup(list)
	assert.False(t, ok)
}
