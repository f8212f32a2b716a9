// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadErrors(t *testing.T) {
	good := buildBytes(t, testPackage())
	p, err := splitPackage(good)
	require.NoError(t, err)
	headerAt := len(good) - len(p.payload) - len(p.header)

	flip := func(at int) []byte {
		b := append([]byte(nil), good...)
		b[at] ^= 0x01
		return b
	}
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, ErrNotRPM},
		{"short lead", good[:50], ErrNotRPM},
		{"bad magic", append([]byte("\x00\x00\x00\x00"), good[4:]...), ErrNotRPM},
		{"truncated signature", good[:120], ErrMalformed},
		{"truncated header", good[:headerAt+100], ErrMalformed},
		{"header byte flipped", flip(len(good) - len(p.payload) - 40), ErrDigestMismatch},
		{"bad header magic", flip(headerAt), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.input))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
		})
	}
}

func TestInspectPayloadDigestMismatch(t *testing.T) {
	good := buildBytes(t, testPackage())
	bad := append([]byte(nil), good...)
	bad[len(bad)-3] ^= 0x01
	_, err := Inspect(context.Background(), bytes.NewReader(bad), nil)
	assert.ErrorIs(t, err, ErrDigestMismatch)

	_, err = Inspect(context.Background(), bytes.NewReader(good), &InspectOptions{MaxPayloadSize: 10})
	assert.ErrorIs(t, err, ErrTooLarge)
}

// A payload whose file content differs from the header's file digest (but
// whose payload digest is consistent) is caught per file, naming it.
func TestExtractFileDigestMismatch(t *testing.T) {
	s := Spec{Name: "x", Version: "1", Release: "1", BuildTime: testEpoch,
		Files: []File{{Name: "/etc/x.conf", Mode: 0o644, Body: []byte("original")}}}
	p, err := splitPackage(writeBytes(t, s))
	require.NoError(t, err)

	payload := gzipBytes(t, cpioBytes([]testEntry{reg("/etc/x.conf", "tampered")}, true))
	oldSum, newSum := sha256.Sum256(p.payload), sha256.Sum256(payload)
	header := bytes.Replace(p.header, []byte(hex.EncodeToString(oldSum[:])), []byte(hex.EncodeToString(newSum[:])), 1)
	sig, err := signatureHeader(header, payload, p.payloadSize, nil)
	require.NoError(t, err)
	raw := append(append(append(append([]byte(nil), p.lead...), sig...), make([]byte, (8-len(sig)%8)%8)...), header...)
	raw = append(raw, payload...)

	dest := t.TempDir()
	_, err = Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.ErrorIs(t, err, ErrDigestMismatch)
	var ee *EntryError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "/etc/x.conf", ee.Entry)
	assert.Empty(t, treeOf(t, dest))
}

func TestExtractSkipsRootAndSpecialEntries(t *testing.T) {
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		{name: ".", mode: cpioDir | 0o755, size: -1},
		{name: "./fifo", mode: 0o010644, size: -1},
		reg("./file", "x"),
	}, true))
	dest := t.TempDir()
	res, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"file"}, treeOf(t, dest))
	assert.Equal(t, []string{"fifo"}, res.Skipped)
}

// A header whose relation tags disagree (names without flags) is malformed;
// Read must say so rather than report a package without Requires.
func TestReadInconsistentRelationsIsMalformed(t *testing.T) {
	f, err := splitPackage(buildBytes(t, testPackage()))
	require.NoError(t, err)
	hdr, err := dropHeaderTag(f.header, 1048) // REQUIREFLAGS
	require.NoError(t, err)
	sig, err := signatureHeader(hdr, f.payload, f.payloadSize, nil)
	require.NoError(t, err)
	var pkg bytes.Buffer
	pkg.Write(f.lead)
	pkg.Write(sig)
	pkg.Write(make([]byte, (8-len(sig)%8)%8))
	pkg.Write(hdr)
	pkg.Write(f.payload)

	info, err := Read(bytes.NewReader(pkg.Bytes()))
	require.ErrorIs(t, err, ErrMalformed, "got Requires %v", func() any {
		if info != nil {
			return info.Requires
		}
		return nil
	}())
	assert.Contains(t, err.Error(), "require")
}
