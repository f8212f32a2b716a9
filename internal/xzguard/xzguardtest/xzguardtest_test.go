// SPDX-License-Identifier: Apache-2.0

package xzguardtest_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"

	"github.com/klpkit/klpkit/internal/xzguard"
	"github.com/klpkit/klpkit/internal/xzguard/xzguardtest"
)

func TestCompressAndHostile(t *testing.T) {
	data := bytes.Repeat([]byte("kernel "), 100)
	r, err := xz.NewReader(bytes.NewReader(xzguardtest.Compress(t, data)))
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, data, got)

	zr, err := xzguard.NewXZReader(bytes.NewReader(xzguardtest.Hostile(t, data)), nil)
	if err == nil {
		_, err = io.ReadAll(zr)
	}
	require.ErrorIs(t, err, xzguard.ErrLimit, "the block header asks for 4 GiB")
	assert.Contains(t, err.Error(), "4294967295 bytes")
}
