// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"archive/tar"
	"context"
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
