// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// TestEnsureBuildKey: the module signing key is made only for a signing
// build in a toolchain root without openssl, never over an existing key,
// and is what kbuild's would be (a key with its certificate, one file),
// dated after the x509.genkey it is made from.
func TestEnsureBuildKey(t *testing.T) {
	emptyRoot := t.TempDir()
	sslRoot := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(sslRoot, "usr/bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sslRoot, "usr/bin/openssl"), []byte("#!/bin/sh\n"), 0o755))
	tests := []struct {
		name    string
		kb      kbuild
		signs   bool
		haveKey bool
		want    bool
	}{
		{"root without openssl", rootKbuild{deb: &lab.Lab{ToolchainRoot: emptyRoot}}, true, false, true},
		{"root with openssl", rootKbuild{deb: &lab.Lab{ToolchainRoot: sslRoot}}, true, false, false},
		{"host", hostKbuild{}, true, false, false},
		{"no signing", rootKbuild{deb: &lab.Lab{ToolchainRoot: emptyRoot}}, false, false, false},
		{"key kept", rootKbuild{deb: &lab.Lab{ToolchainRoot: emptyRoot}}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, obj := t.TempDir(), t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(tree, "certs"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(tree, "certs/default_x509.genkey"), []byte("[ req ]\ndefault_bits = 4096\n"), 0o644))
			key := filepath.Join(obj, buildKeyName)
			if tt.haveKey {
				require.NoError(t, os.MkdirAll(filepath.Dir(key), 0o755))
				require.NoError(t, os.WriteFile(key, []byte("kept"), 0o600))
			}
			fk := &FlavorKernel{}
			if tt.signs {
				fk.SigningCert = "lab.pem"
			}
			p := &preparer{kb: tt.kb, l: &Lab{Tree: tree}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			require.NoError(t, p.ensureBuildKey(flavorBuild{fk: fk}, obj))
			if tt.haveKey {
				data, err := os.ReadFile(key)
				require.NoError(t, err)
				require.Equal(t, "kept", string(data))
				return
			}
			if !tt.want {
				require.NoFileExists(t, key)
				return
			}
			s, err := modsign.LoadSigner(key, "", 0)
			require.NoError(t, err, "a key and its certificate in one PEM file")
			require.NotNil(t, s.Cert)
			genkey, err := os.ReadFile(filepath.Join(obj, buildGenkeyName))
			require.NoError(t, err)
			require.Equal(t, "[ req ]\ndefault_bits = 4096\n", string(genkey))
			gi, err := os.Stat(filepath.Join(obj, buildGenkeyName))
			require.NoError(t, err)
			ki, err := os.Stat(key)
			require.NoError(t, err)
			require.True(t, ki.ModTime().After(gi.ModTime()), "make must find the key up to date")
			require.Equal(t, os.FileMode(0o600), ki.Mode().Perm())
		})
	}
}
