// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"testing"
)

// benchModule is a module-sized body: half random (incompressible), half
// zeros, like a .ko with code and padding.
func benchModule(b *testing.B, size int) []byte {
	m := make([]byte, size)
	_, _ = rand.Read(m[:size/2])
	return m
}

func BenchmarkBuild(b *testing.B) {
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		b.Run(comp, func(b *testing.B) {
			p := testPackage()
			p.Module = paddedModule(4<<20, func(pad []byte) { _, _ = rand.Read(pad[:len(pad)/2]) })
			p.Compressor = comp
			b.SetBytes(int64(len(p.Module)))
			for b.Loop() {
				if err := Build(io.Discard, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkExtract(b *testing.B) {
	for _, comp := range []string{"gzip", "xz", "zstd"} {
		b.Run(comp, func(b *testing.B) {
			s := Spec{Name: "linux-debuginfo", Version: "6.1.83", Release: "5.ph5", Arch: "x86_64",
				BuildTime: testEpoch, Compressor: comp,
				Files: []File{{Name: "/usr/lib/debug/vmlinux", Mode: 0o644, Body: benchModule(b, 16<<20)}}}
			var buf bytes.Buffer
			if err := Write(&buf, s); err != nil {
				b.Fatal(err)
			}
			raw := buf.Bytes()
			dest := b.TempDir()
			b.SetBytes(16 << 20)
			i := 0
			for b.Loop() {
				i++
				d := filepath.Join(dest, string(rune('a'+i%26)), "x")
				if _, err := Extract(context.Background(), bytes.NewReader(raw), d, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
