// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// BenchmarkDecode compares decoding about 20 MB through the guard with
// xz.NewReader alone.
func BenchmarkDecode(b *testing.B) {
	data := sample(20 << 20)
	s := xzTool(b, data, "-2")
	for _, bc := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"xz.NewReader", func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) }},
		{"NewXZReader", func(r io.Reader) (io.Reader, error) { return NewXZReader(r, nil) }},
		{"NewGuard only", func(r io.Reader) (io.Reader, error) { return NewGuard(r, nil), nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := bc.open(bytes.NewReader(s))
				require.NoError(b, err)
				_, err = io.Copy(io.Discard, r)
				require.NoError(b, err)
			}
		})
	}
}
