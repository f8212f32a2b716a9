// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/pgptest"
)

// A key made after the build time (a release key newer than the commit)
// still signs: the signature is dated when the key became valid, the same
// on every run, and rpm accepts it.
func TestSignWithKeyNewerThanBuildTime(t *testing.T) {
	needTool(t, "rpmkeys")
	made := testEpoch.Add(90 * 24 * time.Hour)
	priv, pub := pgptest.Key(t, pgptest.Options{Name: "klpkit later key", RSA: true, Created: made})

	build := func() []byte {
		signer, err := NewOpenPGPSigner(bytes.NewReader(priv), &SignerOptions{Time: testEpoch})
		require.NoError(t, err)
		p := testPackage()
		p.Signer = signer
		return buildBytes(t, p)
	}
	raw := build()
	assert.Equal(t, raw, build(), "reproducible")

	dir := t.TempDir()
	file, keyFile, db := filepath.Join(dir, "p.rpm"), filepath.Join(dir, "key.asc"), filepath.Join(dir, "db")
	require.NoError(t, os.WriteFile(file, raw, 0o644))
	require.NoError(t, os.WriteFile(keyFile, pub, 0o644))
	runTool(t, "rpmkeys", "--dbpath", db, "--import", keyFile)
	out, err := exec.Command("rpmkeys", "--dbpath", db, "-Kv", file).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "Header V4 RSA/SHA256 Signature, key ID")
	assert.NotContains(t, string(out), "BAD")
	assert.Contains(t, runTool(t, "rpm", "-qp", "--qf", "%{RSAHEADER:pgpsig}\n", file), made.Format("Mon Jan _2 15:04:05 2006"),
		"dated when the key was made")
}
