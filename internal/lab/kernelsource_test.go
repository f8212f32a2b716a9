// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFetchSourceRefusesAptGenerations: the 6.1 labs' source comes from the
// host's apt, not from FetchSource.
func TestFetchSourceRefusesAptGenerations(t *testing.T) {
	for _, g := range []Generation{"", Bookworm61, Bookworm61RT} {
		_, err := FetchSource(t.Context(), &Lab{Dir: t.TempDir(), Generation: g}, t.TempDir(), nil)
		require.ErrorIs(t, err, ErrNoRemoteSource, g)
	}
}

// TestTailWriter keeps the end of a long output, from a line start.
func TestTailWriter(t *testing.T) {
	var buf bytes.Buffer
	w := &tailWriter{buf: &buf, max: 64}
	for i := 0; i < 100; i++ {
		_, err := w.Write([]byte(strings.Repeat("x", 9) + "\n"))
		require.NoError(t, err)
	}
	_, err := w.Write([]byte("last line\n"))
	require.NoError(t, err)
	require.LessOrEqual(t, buf.Len(), 2*64)
	require.True(t, strings.HasSuffix(buf.String(), "last line\n"))
	require.True(t, strings.HasPrefix(buf.String(), "xxxxxxxxx\n"), "cut at a line start: %q", buf.String())
}
