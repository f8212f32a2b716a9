// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, want string }{
		{"s3cret\n", "s3cret"},
		{"s3cret\r\n", "s3cret"},
		{"s3cret", "s3cret"},
		{"s3cret\nsecond line\n", "s3cret"},
		{"  spaced out \t\n", "  spaced out \t"},
		{"", ""},
		{"\n", ""},
		{"a\rb\n", "a\rb"},
	} {
		p := filepath.Join(dir, "pass")
		require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
		got, err := ReadPassphraseFile(p)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(got), "%q", tc.content)
	}
	missing := filepath.Join(dir, "missing")
	_, err := ReadPassphraseFile(missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, missing)
}
