// SPDX-License-Identifier: Apache-2.0

//go:build linux

package modsign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// requireTool finds a host tool; without it the test skips, except in CI.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		needtest.Missing(t, "needs %s (Debian package %s)", name, pkg)
	}
	return p
}

// labSignFile returns the lab kernel's scripts/sign-file: the one built in
// its headers package, else one compiled from its source tree's
// sign-file.c with the host cc and libssl-dev.
func labSignFile(t *testing.T, l *lab.Lab) string {
	t.Helper()
	p := filepath.Join(l.HeadersDir, "scripts", "sign-file")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	src := filepath.Join(l.SourceDir, "scripts", "sign-file.c")
	if l.SourceDir == "" {
		t.Fatalf("lab %s: no built sign-file in %s and no source tree to build it from", l.Dir, l.HeadersDir)
	}
	cc := requireTool(t, "cc", "gcc")
	out := filepath.Join(t.TempDir(), "sign-file")
	cmd := exec.CommandContext(t.Context(), cc, "-O2", "-o", out, src, "-lcrypto")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "building %s (needs libssl-dev): %s", src, b)
	return out
}

// labModule returns the smallest real module the lab keeps.
func labModule(t *testing.T, l *lab.Lab) []byte {
	t.Helper()
	files, err := l.ModuleFiles()
	require.NoError(t, err)
	var best string
	var bestSize int64
	for _, f := range files {
		st, err := os.Stat(filepath.Join(l.ModulesDir, f))
		require.NoError(t, err)
		if best == "" || st.Size() < bestSize {
			best, bestSize = f, st.Size()
		}
	}
	require.NotEmpty(t, best, "lab modules")
	data, err := os.ReadFile(filepath.Join(l.ModulesDir, best))
	require.NoError(t, err)
	t.Logf("module %s (%d bytes)", best, len(data))
	return data
}

// TestSignFileEquality: for the same key, certificate, hash and module,
// Sign writes exactly what the lab kernel's scripts/sign-file writes (RSA
// PKCS#1 v1.5 is deterministic), and openssl cms verifies it. The lab's
// modules are Debian-signed, so Sign also replaces a signature here while
// sign-file is given the bare module.
func TestSignFileEquality(t *testing.T) {
	l := vmtest.RequireLab(t)
	openssl := requireTool(t, "openssl", "openssl")
	signFile := labSignFile(t, l)
	orig := labModule(t, l)

	debian, err := modsign.Parse(orig)
	require.NoError(t, err, "Debian's own module signature parses")
	assert.NotEmpty(t, debian.Signer)
	bare, err := modsign.Strip(orig)
	require.NoError(t, err)

	dir := t.TempDir()
	bareFile := filepath.Join(dir, "bare.ko")
	require.NoError(t, os.WriteFile(bareFile, bare, 0o644))
	run := func(name string, args ...string) ([]byte, error) {
		return exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	}

	// An openssl-made key (as certs/Makefile makes signing_key.pem) and a
	// Go-made one.
	osslKey, osslCert := filepath.Join(dir, "ossl.key"), filepath.Join(dir, "ossl.crt")
	out, err := run(openssl, "req", "-new", "-nodes", "-utf8", "-batch", "-x509", "-days", "2",
		"-subj", "/CN=klpkit lab signing key/O=klpkit", "-newkey", "rsa:2048", "-keyout", osslKey, "-outform", "DER", "-out", osslCert)
	require.NoError(t, err, "%s", out)
	goKey := newTestKey(t, "rsa", "klpkit go key")
	ecKey := newTestKey(t, "ecdsa", "klpkit ec key")

	for _, tc := range []struct {
		name, key, cert, hash string
		deterministic         bool
	}{
		{"openssl-rsa-sha384", osslKey, osslCert, "sha384", true},
		{"go-rsa-sha256", goKey.keyFile, goKey.certFile, "sha256", true},
		{"go-rsa-sha512", goKey.keyFile, goKey.certFile, "sha512", true},
		{"go-ecdsa-sha256", ecKey.keyFile, ecKey.certFile, "sha256", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := filepath.Join(t.TempDir(), "want.ko")
			require.NoError(t, os.WriteFile(want, bare, 0o644))
			out, err := run(signFile, tc.hash, tc.key, tc.cert, want)
			require.NoError(t, err, "sign-file: %s", out)
			wantData, err := os.ReadFile(want)
			require.NoError(t, err)

			h, err := modsign.ParseHash(tc.hash)
			require.NoError(t, err)
			s, err := modsign.LoadSigner(tc.key, tc.cert, h)
			require.NoError(t, err)
			got, err := s.Sign(orig)
			require.NoError(t, err)

			if tc.deterministic {
				require.Equal(t, len(wantData), len(got), "length differs from sign-file's")
				require.True(t, bytes.Equal(wantData, got), "bytes differ from sign-file's")
			} else {
				// ECDSA signatures are random: the same fields, both verify.
				ws, err := modsign.Parse(wantData)
				require.NoError(t, err)
				gs, err := modsign.Parse(got)
				require.NoError(t, err)
				assert.Equal(t, []any{ws.Signer, ws.SerialNumber, ws.Hash, ws.KeyAlgorithm}, []any{gs.Signer, gs.SerialNumber, gs.Hash, gs.KeyAlgorithm})
				_, _, err = modsign.Verify(wantData, []*x509.Certificate{s.Cert})
				assert.NoError(t, err, "modsign verifies sign-file's signature")
			}

			content, p7, err := modsign.Split(got)
			require.NoError(t, err)
			require.Equal(t, bare, content)
			sigFile := filepath.Join(t.TempDir(), "sig.p7")
			require.NoError(t, os.WriteFile(sigFile, p7, 0o644))
			verify := func(content string) ([]byte, error) {
				return run(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-noverify",
					"-certfile", tc.cert, "-content", content, "-in", sigFile, "-out", os.DevNull)
			}
			out, err = verify(bareFile)
			require.NoError(t, err, "openssl cms -verify: %s", out)
			assert.Contains(t, string(out), "Verification successful")
			tampered := filepath.Join(t.TempDir(), "tampered.ko")
			require.NoError(t, os.WriteFile(tampered, append(bytes.Clone(bare), 0), 0o644))
			_, err = verify(tampered)
			assert.Error(t, err, "openssl cms refuses the signature over other content")
		})
	}
}

// TestVerifySignedAttributes: a signature made with signed attributes
// (openssl cms's default, which sign-file turns off) still verifies, and
// one over other content does not.
func TestVerifySignedAttributes(t *testing.T) {
	openssl := requireTool(t, "openssl", "openssl")
	k := newTestKey(t, "rsa", "attrs")
	dir := t.TempDir()
	mod := fakeModule(4096)
	modFile, sigFile := filepath.Join(dir, "m.ko"), filepath.Join(dir, "m.p7")
	require.NoError(t, os.WriteFile(modFile, mod, 0o644))
	out, err := exec.CommandContext(t.Context(), openssl, "cms", "-sign", "-binary", "-nocerts", "-outform", "DER", "-md", "sha384",
		"-signer", k.certFile, "-inkey", k.keyFile, "-in", modFile, "-out", sigFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	p7, err := os.ReadFile(sigFile)
	require.NoError(t, err)
	var desc [12]byte
	desc[2] = 2
	binary.BigEndian.PutUint32(desc[8:], uint32(len(p7)))
	signed := append(append(append(bytes.Clone(mod), p7...), desc[:]...), modsign.Magic...)

	sig, cert, err := modsign.Verify(signed, []*x509.Certificate{k.cert})
	require.NoError(t, err)
	assert.True(t, sig.SignedAttributes)
	assert.Equal(t, crypto.SHA384, sig.Hash)
	assert.Equal(t, k.cert, cert)

	signed[10] ^= 1
	_, _, err = modsign.Verify(signed, []*x509.Certificate{k.cert})
	assert.ErrorIs(t, err, modsign.ErrBadSignature)
}
