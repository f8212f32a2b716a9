// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

func TestVerifyRPMSignature(t *testing.T) {
	signer, pub := pgptest.Signer(t, pgptest.Options{Name: "Photon Test"}, rpmpkg.NewOpenPGPSigner)
	_, otherPub := pgptest.Key(t, pgptest.Options{Name: "Someone Else"})
	k := photon.MustParseKernel("6.1.138-2.ph5")
	debug := filepath.Join(t.TempDir(), k.DebuginfoRPM())
	require.NoError(t, os.WriteFile(debug, buildDebuginfo(t, k, "", signer), 0o644))

	id, err := VerifyRPMSignature(debug, pub)
	require.NoError(t, err)
	assert.Contains(t, id, "Photon Test")

	_, err = VerifyRPMSignature(debug, otherPub)
	require.ErrorIs(t, err, ErrBadSignature)

	unsigned := filepath.Join(t.TempDir(), "unsigned.rpm")
	require.NoError(t, os.WriteFile(unsigned, buildDebuginfo(t, k, "", nil), 0o644))
	_, err = VerifyRPMSignature(unsigned, pub)
	require.ErrorIs(t, err, ErrBadSignature)
	assert.Contains(t, err.Error(), "not signed")

	// A changed header byte breaks the signature.
	data, err := os.ReadFile(debug)
	require.NoError(t, err)
	sigs, err := readSignatureHeader(bytes.NewReader(data))
	require.NoError(t, err)
	require.NotNil(t, sigs[sigTagRSAHeader])
	tampered := append([]byte(nil), data...)
	i := bytes.Index(tampered, []byte("Debug information"))
	require.Positive(t, i)
	tampered[i] = 'd'
	bad := filepath.Join(t.TempDir(), "bad.rpm")
	require.NoError(t, os.WriteFile(bad, tampered, 0o644))
	_, err = VerifyRPMSignature(bad, pub)
	require.ErrorIs(t, err, ErrBadSignature)

	for _, junk := range [][]byte{nil, []byte("not an rpm at all, definitely not"), data[:120]} {
		p := filepath.Join(t.TempDir(), "junk.rpm")
		require.NoError(t, os.WriteFile(p, junk, 0o644))
		_, err = VerifyRPMSignature(p, pub)
		require.ErrorIs(t, err, ErrBadSignature)
	}
	_, err = VerifyRPMSignature(debug, []byte("no key here"))
	require.ErrorIs(t, err, ErrBadSignature)
}

func TestRepoChecksSignatures(t *testing.T) {
	signer, pub := pgptest.Signer(t, pgptest.Options{Name: "Photon Test"}, rpmpkg.NewOpenPGPSigner)
	k := photon.MustParseKernel("5.10.118-3.ph4")
	signed := buildRepo(t, []string{k.String()}, repoOptions{signer: signer})
	unsigned := buildRepo(t, []string{k.String()}, repoOptions{})

	p, err := (&Repo{Dir: signed, SigningKeys: pub}).Fetch(context.Background(), k, DebuginfoPackage)
	require.NoError(t, err)
	assert.FileExists(t, p)
	_, err = (&Repo{Dir: unsigned, SigningKeys: pub}).Fetch(context.Background(), k, SourcePackage)
	require.ErrorIs(t, err, ErrBadSignature)
	_, err = (&Repo{Dir: unsigned}).Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err, "no keys: no signature check")
}

func FuzzReadSignatureHeader(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readSignatureHeader(bytes.NewReader(data))
	})
}
