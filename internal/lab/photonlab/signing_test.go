// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/kmod/modsign"
	"github.com/klpkit/klpkit/photon"
)

// TestEnsureSigning: the first run makes the key, certificate and
// fragment; a rerun keeps the key (the kernel's cache key stays) and
// restores a lost certificate file; a damaged key is an error, never
// silently replaced.
func TestEnsureSigning(t *testing.T) {
	dir := t.TempDir()
	f, err := ensureSigning(dir, time.Now())
	require.NoError(t, err)
	fi, err := os.Stat(f.Key)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the private key is not world-readable")

	s, err := modsign.LoadSigner(f.Key, f.Cert, 0)
	require.NoError(t, err, "the key file holds the key and the certificate file its certificate")
	require.Equal(t, SigningCommonName, s.Cert.Subject.CommonName)
	require.Equal(t, x509.SHA512WithRSA, s.Cert.SignatureAlgorithm, "the kernel checks it with the sha512 module signing needs anyway")
	require.False(t, s.Cert.IsCA)
	require.NotEmpty(t, s.Cert.SubjectKeyId)
	require.NoError(t, s.Cert.CheckSignature(s.Cert.SignatureAlgorithm, s.Cert.RawTBSCertificate, s.Cert.Signature), "self-signed")

	module := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "lp", Livepatch: true})
	signed, err := s.Sign(module)
	require.NoError(t, err)
	_, by, err := modsign.Verify(signed, []*x509.Certificate{s.Cert})
	require.NoError(t, err)
	require.Equal(t, SigningCommonName, by.Subject.CommonName)

	frag, err := os.ReadFile(f.Fragment)
	require.NoError(t, err)
	opts, err := parseConfig(f.Fragment, frag)
	require.NoError(t, err)
	have := map[string]string{}
	for _, o := range opts {
		have[o.Name] = o.Value
	}
	require.Equal(t, map[string]string{
		"CONFIG_MODULE_SIG": "y", "CONFIG_MODULE_SIG_FORCE": "", "CONFIG_MODULE_SIG_ALL": "y",
		"CONFIG_MODULE_SIG_SHA512": "y", "CONFIG_MODULE_SIG_HASH": `"sha512"`,
		// inside the tree, as Photon's: the source RPM builds as any user
		"CONFIG_MODULE_SIG_KEY": `"certs/signing_key.pem"`, "CONFIG_SYSTEM_TRUSTED_KEYRING": "y",
		"CONFIG_SYSTEM_TRUSTED_KEYS": `"certs/` + TrustedCertSource + `"`,
		// the blacklist check of a verified module (Debian's tree)
		"CONFIG_CRYPTO_SHA256": "y",
	}, have)

	key, err := os.ReadFile(f.Key)
	require.NoError(t, err)
	require.NoError(t, os.Remove(f.Cert))
	again, err := ensureSigning(dir, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, f, again)
	requireFile(t, f.Key, key, "a rerun keeps the key")
	requireFile(t, f.Fragment, frag, "a rerun keeps the fragment, so the kernel is not rebuilt")
	s2, err := modsign.LoadSigner(f.Key, f.Cert, 0)
	require.NoError(t, err, "a lost certificate file is written again from the key file")
	require.True(t, s2.Cert.Equal(s.Cert))

	require.NoError(t, os.WriteFile(f.Key, []byte("not a key\n"), 0o600))
	_, err = ensureSigning(dir, time.Now())
	require.ErrorIs(t, err, ErrBadSigningKey)
	require.ErrorContains(t, err, f.Key)
	requireFile(t, f.Key, []byte("not a key\n"), "a damaged key is left for the user to look at")
	requireFile(t, f.Fragment, frag, "and the fragment is not rewritten")
}

// TestSigningFragmentNamesTheKey: another key at the same path gives
// another fragment, so the config step's digest (and the kernel) follow
// the key.
func TestSigningFragmentNamesTheKey(t *testing.T) {
	f := signingPaths("/lab")
	a, b := signingFragment(f, []byte("key one")), signingFragment(f, []byte("key two"))
	require.NotEqual(t, string(a), string(b))
	require.Equal(t, string(a), string(signingFragment(f, []byte("key one"))))
}

func requireFile(t *testing.T, name string, want []byte, msg string) {
	t.Helper()
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), msg)
}

// TestPrepareSigning: every flavor is configured to sign its modules and
// trust the lab key, and the manifest names it; aws's config is generic's
// but for its host name and local version; a rerun keeps the key and
// builds nothing; a new key rebuilds both.
func TestPrepareSigning(t *testing.T) {
	cfg, log := fakePrepareEnv(t)
	l, err := Prepare(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, signingPaths(l.Dir).Key, l.SigningKey)
	require.Equal(t, signingPaths(l.Dir).Cert, l.SigningCert)
	config, err := os.ReadFile(l.Config)
	require.NoError(t, err)
	require.Contains(t, string(config), "CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"\n")
	require.Contains(t, string(config), "CONFIG_SYSTEM_TRUSTED_KEYS=\"certs/"+TrustedCertSource+"\"\n")
	require.NotContains(t, string(config), l.Dir, "the config names no file outside the tree")
	cert, err := os.ReadFile(l.SigningCert)
	require.NoError(t, err)
	requireFile(t, filepath.Join(l.BuildDir, "certs", TrustedCertSource), cert, "the build finds the certificate the config names")
	aws, err := l.Flavor(photon.AWS)
	require.NoError(t, err)
	require.Equal(t, l.SigningKey, aws.SigningKey)
	require.Equal(t, l.SigningCert, aws.SigningCert)
	awsConfig, err := os.ReadFile(aws.Config)
	require.NoError(t, err)
	require.Equal(t, []string{
		`-CONFIG_LOCALVERSION="-1.ph5"`, `+CONFIG_LOCALVERSION="-1.ph5-aws"`, `+CONFIG_DEFAULT_HOSTNAME="photon-aws"`,
	}, configDiff(t, config, awsConfig), "aws's config is generic's and its own lines")
	requireFile(t, filepath.Join(aws.BuildDir, "certs", TrustedCertSource), cert, "aws's build finds the certificate too")
	opened, err := Open(cfg.LabDir)
	require.NoError(t, err)
	require.Equal(t, l.SigningCert, opened.SigningCert, "the manifest names the certificate")
	generic, err := opened.Flavor(photon.Generic)
	require.NoError(t, err)
	require.Equal(t, l.SigningKey, generic.SigningKey)
	require.Contains(t, opened.String(), "signing cert")

	key, err := os.ReadFile(l.SigningKey)
	require.NoError(t, err)
	log.Reset()
	_, err = Prepare(t.Context(), cfg)
	require.NoError(t, err)
	require.Contains(t, log.String(), "nothing to do")
	requireFile(t, l.SigningKey, key, "a rerun keeps the key")

	require.NoError(t, os.RemoveAll(filepath.Dir(l.SigningKey)))
	_, err = Prepare(t.Context(), cfg)
	require.NoError(t, err)
	newKey, err := os.ReadFile(l.SigningKey)
	require.NoError(t, err)
	require.NotEqual(t, string(key), string(newKey))
	require.Equal(t, 2, builds(t, l.BuildDir), "a new key is a new generic kernel")
	require.Equal(t, 3, builds(t, aws.BuildDir), "and a new aws kernel, from generic's new objects")
	newCert, err := os.ReadFile(l.SigningCert)
	require.NoError(t, err)
	requireFile(t, filepath.Join(aws.BuildDir, "certs", TrustedCertSource), newCert, "aws trusts the new key")
}

// configDiff lists the lines only in a ("-") and only in b ("+"), in
// their files' order, ignoring blank and comment lines but "is not set".
func configDiff(t *testing.T, a, b []byte) []string {
	t.Helper()
	lines := func(data []byte) []string {
		var out []string
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" && (!strings.HasPrefix(l, "#") || strings.HasSuffix(l, " is not set")) {
				out = append(out, l)
			}
		}
		return out
	}
	la, lb := lines(a), lines(b)
	var diff []string
	for _, l := range la {
		if !slices.Contains(lb, l) {
			diff = append(diff, "-"+l)
		}
	}
	for _, l := range lb {
		if !slices.Contains(la, l) {
			diff = append(diff, "+"+l)
		}
	}
	return diff
}
