// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The payload decompressor turns decompress's failures into this package's
// sentinels: an unknown compressor, a stream past the limit, a corrupt one.
func TestDecompressorErrors(t *testing.T) {
	for _, tc := range []struct {
		name, compressor, data string
		limit                  int64
		openErr, readErr       error
	}{
		{name: "within the limit", compressor: "identity", data: "abc", limit: 3},
		{name: "past the limit", compressor: "none", data: "abcd", limit: 3, readErr: ErrTooLarge},
		{name: "unknown compressor", compressor: "lz4", limit: 3, openErr: ErrUnsupported},
		{name: "not gzip", compressor: "gzip", data: "not gzip", limit: 100, openErr: ErrMalformed},
		{name: "not xz", compressor: "xz", data: "not xz at all", limit: 100, openErr: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := decompressor(tc.compressor, strings.NewReader(tc.data), tc.limit)
			if tc.openErr != nil {
				require.ErrorIs(t, err, tc.openErr)
				assert.Contains(t, err.Error(), tc.compressor)
				return
			}
			require.NoError(t, err)
			defer rc.Close()
			out, err := io.ReadAll(rc)
			if tc.readErr != nil {
				require.ErrorIs(t, err, tc.readErr)
				assert.Contains(t, err.Error(), "more than 3 bytes")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.data, string(out))
		})
	}
}
