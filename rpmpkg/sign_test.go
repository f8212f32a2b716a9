// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/pgptest"
)

// testKey makes an RSA signing key dated testEpoch; returns the armored
// private and public keys.
func testKey(t *testing.T) (private, public []byte) {
	t.Helper()
	return pgptest.Key(t, pgptest.Options{RSA: true, Created: testEpoch})
}

func signedPackage(t *testing.T, priv []byte) Package {
	signer, err := NewOpenPGPSigner(bytes.NewReader(priv), &SignerOptions{Time: testEpoch})
	require.NoError(t, err)
	p := testPackage()
	p.Signer = signer
	return p
}

func TestSignedPackageReproducibleAndReadable(t *testing.T) {
	priv, _ := testKey(t)
	p := signedPackage(t, priv)
	a, b := buildBytes(t, p), buildBytes(t, p)
	assert.Equal(t, a, b, "signed packages are reproducible with a fixed signature time")
	info, err := Read(bytes.NewReader(a))
	require.NoError(t, err)
	assert.True(t, info.Signed)
	assert.True(t, info.Digests.HeaderVerified)
}

func TestNewOpenPGPSignerErrors(t *testing.T) {
	_, pub := testKey(t)
	_, err := NewOpenPGPSigner(bytes.NewReader(pub), nil)
	assert.ErrorContains(t, err, "no private key")
	_, err = NewOpenPGPSigner(bytes.NewReader([]byte("not a key")), nil)
	assert.Error(t, err)
}

func TestRPMKeysVerifiesSignature(t *testing.T) {
	needTool(t, "rpmkeys")
	priv, pub := testKey(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.asc")
	require.NoError(t, os.WriteFile(keyFile, pub, 0o644))
	db := filepath.Join(dir, "db")

	check := func(file string) (string, error) {
		out, err := exec.Command("rpmkeys", "--dbpath", db, "-Kv", file).CombinedOutput()
		return string(out), err
	}
	for _, pkg := range []struct {
		name string
		raw  []byte
	}{
		{"livepatch", buildBytes(t, signedPackage(t, priv))},
		{"source", func() []byte {
			s := testSourceSpec()
			signer, err := NewOpenPGPSigner(bytes.NewReader(priv), &SignerOptions{Time: testEpoch})
			require.NoError(t, err)
			s.Signer = signer
			return writeBytes(t, s)
		}()},
	} {
		file := filepath.Join(dir, pkg.name+".rpm")
		require.NoError(t, os.WriteFile(file, pkg.raw, 0o644))
		out, err := check(file)
		assert.Error(t, err, "%s: unknown key must not verify:\n%s", pkg.name, out)
	}
	runTool(t, "rpmkeys", "--dbpath", db, "--import", keyFile)
	for _, name := range []string{"livepatch", "source"} {
		out, err := check(filepath.Join(dir, name+".rpm"))
		require.NoError(t, err, "%s:\n%s", name, out)
		assert.Contains(t, out, "Header V4 RSA/SHA256 Signature, key ID", name)
		assert.NotContains(t, out, "NOKEY", name)
		assert.NotContains(t, out, "BAD", name)
	}
}
