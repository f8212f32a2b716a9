package photon

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// hugeDictXZ compresses data and rewrites the first block's LZMA2
// dictionary to 4 GiB - 1, fixing the header CRC, as a hostile file would:
// ulikunitz/xz alone would allocate the 4 GiB before decoding a byte.
func hugeDictXZ(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	out := buf.Bytes()
	h := out[12:] // the first block header follows the stream header
	size := (int(h[0]) + 1) * 4
	i := bytes.Index(h[2:size-4], []byte{0x21, 0x01})
	require.GreaterOrEqual(t, i, 0, "no LZMA2 filter in the block header")
	h[2+i+2] = 40
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
	return out
}

func TestUnpackTarballRefusesHugeXZDictionary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "linux-6.1.10.tar.xz")
	tarball := makeTar(t, tarEntry{name: "linux-6.1.10/Makefile", typ: tar.TypeReg, body: "VERSION = 6\n"})
	require.NoError(t, os.WriteFile(file, hugeDictXZ(t, tarball), 0o644))
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
	data := hugeDictXZ(t, []byte(testPrimary))
	sum := sha256.Sum256(data)
	var entry RepoMDData
	entry.Location.Href = "repodata/abc-primary.xml.xz"
	entry.Checksum.Type, entry.Checksum.Value = "sha256", hex.EncodeToString(sum[:])
	_, err := ReadPrimary(entry, data, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repodata/abc-primary.xml.xz: ")
	assert.Contains(t, err.Error(), "xz block 1 at byte 12: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit")
}
