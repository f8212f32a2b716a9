// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A download verified against a SHA-512 enters the cache only with its
// SHA-512 record: when the record cannot be written, the file is not left
// in the cache (nor in the name index) to be taken later for a verified
// one, and the download fails.
func TestDownloadSHA512RecordFailureKeepsNothing(t *testing.T) {
	data := []byte("a package verified by its sha512")
	sum := sha512.Sum512(data)
	s := newMemServer(t)
	s.handle("/p.rpm", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) })
	cache := t.TempDir()
	// The SHA-512 index cannot be made: a file sits where its directory goes.
	require.NoError(t, os.WriteFile(filepath.Join(cache, "sha512"), nil, 0o644))
	c := &Cache{Dir: cache}
	_, err := c.Download(context.Background(), DownloadRequest{
		File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}, SHA512: hex.EncodeToString(sum[:]),
	}, fastDownload())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "p.rpm")
	objects, partials := cacheState(t, cache)
	assert.Empty(t, objects, "no object without its SHA-512 record")
	assert.Empty(t, partials)
	_, _, ok := c.LookupName("p.rpm")
	assert.False(t, ok, "not findable by name either")

	// Once the record can be written, the same download succeeds and is
	// found again by its SHA-512.
	require.NoError(t, os.Remove(filepath.Join(cache, "sha512")))
	p, err := c.Download(context.Background(), DownloadRequest{
		File: "p.rpm", URLs: []string{s.srv.URL + "/p.rpm"}, SHA512: hex.EncodeToString(sum[:]),
	}, fastDownload())
	require.NoError(t, err)
	got, ok := c.lookupSHA512(hex.EncodeToString(sum[:]), "p.rpm")
	require.True(t, ok)
	assert.Equal(t, p, got)
}
