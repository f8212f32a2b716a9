// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bytes"
	"io"
	"testing"

	"github.com/ulikunitz/xz"
)

// BenchmarkRefusal shows what refusing a hostile dictionary costs (B/op):
// little through the guard, the whole dictionary without it (16 MiB here,
// affordable in a benchmark). These were test thresholds once; process-wide
// allocation counts belong here, where nothing else runs.
func BenchmarkRefusal(b *testing.B) {
	medium := buildXZ(testBlock{data: "a", dict: 24}) // 16 MiB
	huge := buildXZ(testBlock{data: "a"}, testBlock{data: "b", dict: 40})
	lzmaHuge := hostileLZMA(b)
	for _, bc := range []struct {
		name   string
		decode func() error
	}{
		{"guarded xz 4 GiB", func() error {
			_, err := decodeGuarded(huge, nil)
			return err
		}},
		{"guarded xz 16 MiB, 1 MiB limit", func() error {
			_, err := decodeGuarded(medium, &Options{MaxDict: 1 << 20})
			return err
		}},
		{"guarded lzma 2 GiB", func() error {
			_, err := decodeLZMA(lzmaHuge, nil)
			return err
		}},
		{"unguarded xz 16 MiB", func() error {
			r, err := xz.NewReader(bytes.NewReader(medium))
			if err != nil {
				return err
			}
			_, err = io.ReadAll(r)
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.decode() // refusals; the tests check the errors
			}
		})
	}
}
