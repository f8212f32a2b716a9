// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/xzguard/xzguardtest"
)

func TestUnpackTarballRefusesHugeXZDictionary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "linux-6.1.10.tar.xz")
	tarball := makeTar(t, tarEntry{name: "linux-6.1.10/Makefile", typ: tar.TypeReg, body: "VERSION = 6\n"})
	require.NoError(t, os.WriteFile(file, xzguardtest.Hostile(t, tarball), 0o644))
	xzCmds := []string{""}
	if p, err := exec.LookPath("xz"); err == nil {
		xzCmds = append(xzCmds, p)
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("xz is required in CI (xz-utils): %v", err)
	}
	for _, xzCmd := range xzCmds {
		dir := t.TempDir()
		err := unpackTarball(context.Background(), file, dir, xzCmd)
		require.Error(t, err, "xz command %q", xzCmd)
		assert.Contains(t, err.Error(), "linux-6.1.10.tar.xz: xz block 1 at byte 12: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit")
		entries, _ := os.ReadDir(dir)
		assert.Empty(t, entries)
	}
}

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
