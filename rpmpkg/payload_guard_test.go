// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/xzguard"
	"github.com/klpkit/klpkit/internal/xzguard/xzguardtest"
)

// payloadOffset returns where the compressed payload of raw starts.
func payloadOffset(t *testing.T, raw []byte) int {
	t.Helper()
	r := bytes.NewReader(raw)
	_, err := readHeaders(r)
	require.NoError(t, err)
	return len(raw) - r.Len()
}

// TestExtractHostileXZPayload: an RPM whose xz payload asks for a 4 GiB
// dictionary (a 300-byte way to make ulikunitz/xz allocate 4 GiB) is
// refused before the decoder allocates it, with an error naming the
// package and the problem.
func TestExtractHostileXZPayload(t *testing.T) {
	p := testPackage()
	p.Compressor = "xz"
	raw := buildBytes(t, p)
	off := payloadOffset(t, raw)
	xzguardtest.SetFirstDict(t, raw[off:], xzguardtest.HugeDict)
	// The payload digest matches the hostile payload: only the guard stops it.
	raw = packageWithRawPayload(t, raw[off:], "xz", 1<<20)

	dest := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "extract hostile")
	assert.Contains(t, err.Error(), "xz payload: xz block 1 at byte 12: dictionary of 4294967295 bytes (about 4096 MiB) exceeds the 64 MiB limit")
	assert.Empty(t, treeOf(t, dest))
}

func TestExtractHostileLZMAPayload(t *testing.T) {
	p := testPackage()
	p.Compressor = "lzma"
	raw := buildBytes(t, p)
	off := payloadOffset(t, raw)
	binary.LittleEndian.PutUint32(raw[off+1:], 1<<31-1)
	binary.LittleEndian.PutUint64(raw[off+5:], 1<<64-1)
	raw = packageWithRawPayload(t, raw[off:], "lzma", 1<<20)

	_, err := Extract(context.Background(), bytes.NewReader(raw), t.TempDir(), nil)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "package hostile: RPM payload too large: lzma payload: lzma at byte 0: dictionary of 2147483647 bytes (about 2048 MiB) exceeds the 64 MiB limit")
}

// A payload stream that breaks after the first entries keeps its kind:
// a refused xz dictionary is ErrTooLarge, a corrupt stream ErrMalformed.
func TestExtractPayloadBrokenMidStream(t *testing.T) {
	p := testPackage()
	p.Compressor = "gzip"
	raw := buildBytes(t, p)
	off := payloadOffset(t, raw)
	// Cut the gzip member short of its trailer: the data decodes, then
	// the stream ends early.
	cut := packageWithRawPayload(t, raw[off:off+(len(raw)-off)*2/3], "gzip", 1<<20)
	_, err := Extract(context.Background(), bytes.NewReader(cut), t.TempDir(), nil)
	require.ErrorIs(t, err, ErrMalformed)

	r := guardedPayload{errReader{fmt.Errorf("xz block 2: %w", xzguard.ErrLimit)}, "xz"}
	_, err = newCPIOReader(r).Next()
	require.ErrorIs(t, err, ErrTooLarge)
	assert.NotErrorIs(t, err, ErrMalformed)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
