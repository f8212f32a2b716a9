// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod/modsign"
)

// fakeSigner is a test double for Signer: it records what it was given and
// answers with what respond makes of it.
type fakeSigner struct {
	got     [][]byte
	respond func(ko []byte) ([]byte, error)
}

func (f *fakeSigner) SignModule(ctx context.Context, ko []byte) ([]byte, error) {
	f.got = append(f.got, bytes.Clone(ko))
	return f.respond(ko)
}

// realSigner is a modsign.Signer with a fresh ECDSA key.
func realSigner(t *testing.T) *modsign.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "build test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &modsign.Signer{Key: key, Cert: cert}
}

// TestOutputSigns: the output stage hands the linked module to
// Options.Signer and writes what it returns, or nothing when the signer
// fails or returns something that is not the module plus a signature.
func TestOutputSigns(t *testing.T) {
	ko := []byte("\x7fELF linked livepatch module")
	real := realSigner(t)
	sigOf := func(t *testing.T) []byte {
		s, err := real.Sign(ko)
		require.NoError(t, err)
		return s[len(ko):]
	}
	boom := errors.New("hsm offline")
	for _, tc := range []struct {
		name    string
		respond func(t *testing.T) func([]byte) ([]byte, error)
		wantErr string
		is      error
	}{
		{"signed", func(t *testing.T) func([]byte) ([]byte, error) {
			return func(b []byte) ([]byte, error) { return real.Sign(b) }
		}, "", nil},
		{"signer fails", func(*testing.T) func([]byte) ([]byte, error) {
			return func([]byte) ([]byte, error) { return nil, boom }
		}, "signing m.ko: hsm offline", boom},
		{"no signature", func(*testing.T) func([]byte) ([]byte, error) {
			return func(b []byte) ([]byte, error) { return b, nil }
		}, "no valid module signature", modsign.ErrNotSigned},
		{"module changed", func(t *testing.T) func([]byte) ([]byte, error) {
			sig := sigOf(t)
			return func(b []byte) ([]byte, error) { return append([]byte("X"+string(b)), sig...), nil }
		}, "changed the module", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			f := &fakeSigner{respond: tc.respond(t)}
			r := &runner{opts: Options{OutputDir: out, Signer: f}, name: "m", log: slog.New(slog.DiscardHandler)}
			err := r.output(t.Context(), ko)
			require.Equal(t, [][]byte{ko}, f.got, "the signer sees the linked module once")
			dst := filepath.Join(out, "m.ko")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				if tc.is != nil {
					assert.ErrorIs(t, err, tc.is)
				}
				assert.NoFileExists(t, dst, "no module is written when signing fails")
				return
			}
			require.NoError(t, err)
			data, err := os.ReadFile(dst)
			require.NoError(t, err)
			sig, cert, err := modsign.Verify(data, []*x509.Certificate{real.Cert})
			require.NoError(t, err)
			assert.Equal(t, "build test", sig.Signer)
			assert.Equal(t, real.Cert, cert)
		})
	}

	t.Run("no signer", func(t *testing.T) {
		out := t.TempDir()
		r := &runner{opts: Options{OutputDir: out}, name: "m", log: slog.New(slog.DiscardHandler)}
		require.NoError(t, r.output(t.Context(), ko))
		data, err := os.ReadFile(filepath.Join(out, "m.ko"))
		require.NoError(t, err)
		assert.Equal(t, ko, data)
	})
}
