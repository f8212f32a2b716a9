// SPDX-License-Identifier: Apache-2.0

//go:build linux

package kmod_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// newModSigner is a module signer with a fresh ECDSA key and certificate.
func newModSigner(t *testing.T, cn string) *modsign.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{0xab, 0xcd, byte(len(cn))}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &modsign.Signer{Key: key, Cert: cert, Hash: crypto.SHA256}
}

// TestLoadSignatures: a kernel that checks signatures for real (the fake
// with TrustedKeys) loads a module signed with a key it holds and refuses
// the others with the errno the kernel uses and a message saying what to
// do.
func TestLoadSignatures(t *testing.T) {
	trusted, stranger := newModSigner(t, "trusted"), newModSigner(t, "stranger")
	plain := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "a", Livepatch: true})
	sign := func(s *modsign.Signer) []byte {
		out, err := s.Sign(plain)
		require.NoError(t, err)
		return out
	}
	// Changed after signing where nothing else looks: modinfo's license.
	tampered := bytes.Replace(sign(trusted), []byte("license=GPL"), []byte("license=GPX"), 1)
	keys := []*x509.Certificate{trusted.Cert}
	for _, tc := range []struct {
		name  string
		cfg   kmodtest.Config
		image []byte
		want  []error // nil: loads
		msg   string
	}{
		{"trusted key", kmodtest.Config{SigEnforce: true, TrustedKeys: keys}, sign(trusted), nil, ""},
		{"unsigned, enforced", kmodtest.Config{SigEnforce: true, TrustedKeys: keys}, plain, []error{kmod.ErrSignatureRequired, syscall.EKEYREJECTED}, "requires signed modules"},
		{"unknown key, enforced", kmodtest.Config{SigEnforce: true, TrustedKeys: keys}, sign(stranger), []error{kmod.ErrSignatureRequired, syscall.EKEYREJECTED}, "does not trust"},
		{"unknown key, 4.19", kmodtest.Config{SigEnforce: true, TrustedKeys: keys, Release: "4.19.325-1.ph3"}, nil, []error{kmod.ErrSignatureRequired, syscall.ENOKEY}, "none of its keys signed this one"},
		{"changed after signing", kmodtest.Config{TrustedKeys: keys}, tampered, []error{kmod.ErrSignatureRequired, syscall.EKEYREJECTED}, "changed after signing"},
		{"malformed", kmodtest.Config{TrustedKeys: keys}, kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "a", Livepatch: true, Signed: true}), []error{kmod.ErrSignatureRequired, syscall.EBADMSG}, "signature is malformed"},
		{"unsigned, lockdown", kmodtest.Config{Lockdown: true, TrustedKeys: keys}, plain, []error{kmod.ErrLockdown, syscall.EPERM}, "locked down"},
		{"unknown key, not enforced", kmodtest.Config{TrustedKeys: keys}, sign(stranger), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, &tc.cfg)
			img := tc.image
			if img == nil {
				spec := kmodtest.ModuleSpec{Name: "a", Livepatch: true, Vermagic: tc.cfg.Release + " SMP mod_unload "}
				var err error
				img, err = stranger.Sign(kmodtest.BuildModule(spec))
				require.NoError(t, err)
			}
			path := filepath.Join(e.dir, "a.ko")
			require.NoError(t, os.WriteFile(path, img, 0o644))
			_, err := e.sys.Load(ctx(t), path, loadOpts(nil))
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, []string{"a"}, e.k.Loaded())
				return
			}
			for _, w := range tc.want {
				require.ErrorIs(t, err, w)
			}
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), "mokutil --import", "says how to get a key trusted")
			assert.Contains(t, err.Error(), "--sign-key", "says how to sign")
			assert.Empty(t, e.k.Loaded())
		})
	}
}

// TestLoadSignatureErrnos: each errno of a refused signature, as a kernel
// returns it, gets its own explanation.
func TestLoadSignatureErrnos(t *testing.T) {
	for errno, msg := range map[syscall.Errno]string{
		syscall.ENOKEY:       "none of its keys signed this one",
		syscall.EKEYREJECTED: "requires signed modules",
		syscall.EBADMSG:      "signature is malformed",
	} {
		e := newEnv(t, nil)
		path := e.module(t, "a.ko", "a")
		e.k.Fail("load", errno, 1)
		_, err := e.sys.Load(ctx(t), path, loadOpts(nil))
		require.ErrorIs(t, err, kmod.ErrSignatureRequired, errno.Error())
		require.ErrorIs(t, err, errno)
		assert.Contains(t, err.Error(), msg)
		assert.Contains(t, err.Error(), "Machine Owner Key")
	}
}

func TestModuleSignature(t *testing.T) {
	s, other := newModSigner(t, "lab signer"), newModSigner(t, "other")
	signed, err := s.Sign(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "m", Livepatch: true}))
	require.NoError(t, err)
	m, err := kmod.ParseModule(signed)
	require.NoError(t, err)
	assert.True(t, m.Signed)
	sig, err := m.Signature()
	require.NoError(t, err)
	assert.Equal(t, "lab signer", sig.Signer)
	assert.Equal(t, "sha256", sig.HashName())
	assert.Equal(t, "ECDSA", sig.KeyAlgorithm)

	_, cert, err := m.VerifySignature([]*x509.Certificate{other.Cert, s.Cert})
	require.NoError(t, err)
	assert.Equal(t, s.Cert, cert)
	_, _, err = m.VerifySignature([]*x509.Certificate{other.Cert})
	assert.ErrorIs(t, err, modsign.ErrUnknownKey)

	unsigned, err := kmod.ParseModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "m"}))
	require.NoError(t, err)
	_, err = unsigned.Signature()
	assert.ErrorIs(t, err, modsign.ErrNotSigned)
}
