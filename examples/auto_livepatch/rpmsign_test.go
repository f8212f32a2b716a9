// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/pgptest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

// pgpKey writes an armored OpenPGP private key (encrypted when passphrase
// is set) and returns its file and the armored public key.
func pgpKey(t *testing.T, passphrase string) (keyFile string, public []byte) {
	t.Helper()
	priv, public := pgptest.Key(t, pgptest.Options{Name: "Example livepatch RPMs", RSA: true, Passphrase: passphrase})
	keyFile = filepath.Join(t.TempDir(), "rpm-key.asc")
	require.NoError(t, os.WriteFile(keyFile, priv, 0o600))
	return keyFile, public
}

func TestRPMSigning(t *testing.T) {
	plain, plainPub := pgpKey(t, "")
	locked, lockedPub := pgpKey(t, "s3cret phrase")
	passFile := writeFile(t, "pass", "s3cret phrase\n")
	wrongPass := writeFile(t, "wrong", "nope\n")

	for _, tc := range []struct {
		name string
		args []string
		env  string
		pub  []byte
	}{
		{"unencrypted key", []string{"--rpm-sign-key", plain}, "", plainPub},
		{"passphrase file", []string{"--rpm-sign-key", locked, "--rpm-sign-passphrase-file", passFile}, "", lockedPub},
		{"passphrase from the environment", []string{"--rpm-sign-key", locked}, "s3cret phrase", lockedPub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			if tc.env != "" {
				c.env[rpmPassphraseEnv] = tc.env
			}
			out := t.TempDir()
			require.NoError(t, c.run(append([]string{"-k", kernel, "-p", c.patch, "-n", "fix", "-o", out, "--rpm"}, tc.args...)...))
			rpmFile := filepath.Join(out, "fix-1-1.ph5.x86_64.rpm")
			f, err := os.Open(rpmFile)
			require.NoError(t, err)
			info, err := rpmpkg.Read(f)
			f.Close()
			require.NoError(t, err)
			assert.True(t, info.Signed)
			who, err := kernelsrc.VerifyRPMSignature(rpmFile, tc.pub)
			require.NoError(t, err, "the RPM's signature verifies with the public key")
			assert.Contains(t, who, "Example livepatch RPMs")
			_, err = kernelsrc.VerifyRPMSignature(rpmFile, map[bool][]byte{true: lockedPub, false: plainPub}[bytes.Equal(tc.pub, plainPub)])
			assert.Error(t, err, "and not with another key")
		})
	}

	c := newCLI(t)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"without --rpm", []string{"--rpm-sign-key", plain}, "ERROR: --rpm-sign-key needs --rpm\n"},
		{"passphrase without key", []string{"--rpm", "--rpm-sign-passphrase-file", passFile}, "ERROR: --rpm-sign-passphrase-file needs --rpm-sign-key\n"},
		{"missing key", []string{"--rpm", "--rpm-sign-key", filepath.Join(t.TempDir(), "none.asc")}, "ERROR: RPM signing key file "},
		{"no passphrase", []string{"--rpm", "--rpm-sign-key", locked}, "ERROR: RPM signing key " + locked + ": signing key: decrypt"},
		{"wrong passphrase", []string{"--rpm", "--rpm-sign-key", locked, "--rpm-sign-passphrase-file", wrongPass}, "signing key: decrypt"},
		{"not a key", []string{"--rpm", "--rpm-sign-key", passFile}, "ERROR: RPM signing key " + passFile + ": read signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.run(append([]string{"-p", c.patch}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, c.err.String(), tc.msg)
			assert.Nil(t, c.got, "nothing built: the key is checked first")
		})
	}
}
