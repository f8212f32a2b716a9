// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/xzguard/xzguardtest"
)

// TestReadPrimaryRefusesHugeXZDictionary: repodata that matches its
// checksum (a hostile mirror signs nothing) is still refused, naming the file.
func TestReadPrimaryRefusesHugeXZDictionary(t *testing.T) {
	data := xzguardtest.Hostile(t, []byte(testPrimary))
	sum := sha256.Sum256(data)
	var entry RepoMDData
	entry.Location.Href = "repodata/abc-primary.xml.xz"
	entry.Checksum.Type, entry.Checksum.Value = "sha256", hex.EncodeToString(sum[:])
	_, err := ReadPrimary(entry, data, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repodata/abc-primary.xml.xz: ")
	assert.Contains(t, err.Error(), "xz block 1 at byte 12: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit")
}
