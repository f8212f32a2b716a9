// SPDX-License-Identifier: Apache-2.0

package modsign_test

import (
	"crypto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/modsign"
)

func TestFileOptions(t *testing.T) {
	k := newTestKey(t, "ecdsa", "fleet key")
	for _, tc := range []struct {
		name string
		o    modsign.FileOptions
		err  error // from Validate and Signer
		hash crypto.Hash
	}{
		{"none", modsign.FileOptions{}, nil, 0},
		{"cert without key", modsign.FileOptions{Cert: k.certFile}, modsign.ErrNoKey, 0},
		{"hash without key", modsign.FileOptions{Hash: "sha256"}, modsign.ErrNoKey, 0},
		{"bad hash", modsign.FileOptions{Key: k.keyFile, Cert: k.certFile, Hash: "sha1"}, modsign.ErrUnsupportedHash, 0},
		{"default hash", modsign.FileOptions{Key: k.keyFile, Cert: k.certFile}, nil, modsign.DefaultHash},
		{"sha384", modsign.FileOptions{Key: k.keyFile, Cert: k.certFile, Hash: "SHA-384"}, nil, crypto.SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			s, serr := tc.o.Signer()
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.ErrorIs(t, serr, tc.err)
				assert.Nil(t, s)
				return
			}
			require.NoError(t, err)
			require.NoError(t, serr)
			if tc.hash == 0 {
				assert.Nil(t, s, "no key, no signer")
				return
			}
			require.NotNil(t, s)
			assert.Equal(t, tc.hash, s.Hash)
			assert.Equal(t, "CN=fleet key,O=klpkit tests ("+modsign.HashName(tc.hash)+")", s.String())
		})
	}
	// Validate does not read the files; Signer does.
	o := modsign.FileOptions{Key: k.keyFile + ".missing"}
	require.NoError(t, o.Validate())
	_, err := o.Signer()
	assert.ErrorContains(t, err, k.keyFile+".missing")
}
