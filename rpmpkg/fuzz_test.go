// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/internal/beneath"
)

func addPackageSeeds(f *testing.F) {
	var buf bytes.Buffer
	if err := Build(&buf, testPackage()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	buf.Reset()
	if err := Write(&buf, testSourceSpec()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, name := range []string{"fixture-gzip-1.0-1.ph5.x86_64.rpm", "fixture-gzip-1.0-1.ph5.src.rpm"} {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzRead feeds arbitrary bytes to Read and Inspect: errors are fine,
// panics and unbounded allocations are not.
func FuzzRead(f *testing.F) {
	addPackageSeeds(f)
	f.Add([]byte("\xed\xab\xee\xdb\x03\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Read(bytes.NewReader(data))
		if err == nil && info == nil {
			t.Fatal("nil info without error")
		}
		info, err = Inspect(context.Background(), bytes.NewReader(data), &InspectOptions{MaxPayloadSize: 1 << 20})
		if err == nil && !info.Digests.HeaderVerified && info.Digests.HeaderSHA256 != "" {
			t.Fatal("header digest present but not verified")
		}
	})
}

// FuzzExtract extracts hostile archives. Input that starts with the RPM
// lead magic is a whole package; anything else is a raw cpio payload
// wrapped in a valid package, so the fuzzer reaches the extractor instead
// of stopping at digests. Nothing may appear outside dest; a failed
// extraction leaves dest as it was (it holds a few files beforehand); after
// a successful one, no symlink in dest resolves outside it.
func FuzzExtract(f *testing.F) {
	addPackageSeeds(f)
	for _, entries := range [][]testEntry{
		{dir("./a"), reg("./a/b", "x")},
		{symlink("./l", "../../etc"), reg("./l/passwd", "x")},
		{dir("./real"), symlink("./link", "real"), reg("./link/f", "x")},
		{reg("./../x", "y")},
		{dir("./c"), symlink("./c/d", ".."), symlink("./v", "c/d/../x")},
		{reg("./a/b", "new"), reg("./keep", "k"), symlink("./l/x", "/etc")},
		{dir("./a"), reg("./a/b", "data"), symlink("./a/c", "b"), symlink("./m", "a/c")},
		{{name: "./h1", mode: cpioReg | 0o644, links: 2, inode: 3, size: 0}, {name: "./h2", mode: cpioReg | 0o644, links: 2, inode: 3, data: "d", size: -1}},
	} {
		f.Add(cpioBytes(entries, true))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := data
		if !bytes.HasPrefix(data, []byte{0xed, 0xab, 0xee, 0xdb}) {
			raw = packageWithPayload(t, data)
		}
		parent := t.TempDir()
		dest := filepath.Join(parent, "dest")
		for name, body := range map[string]string{"a/b": "old", "keep": "keep", "l/x": "x"} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dest, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dest, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		before := snapshot(t, dest)
		_, err := Extract(context.Background(), bytes.NewReader(raw), dest,
			&ExtractOptions{MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20})
		entries, rerr := os.ReadDir(parent)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range entries {
			if e.Name() != "dest" {
				t.Fatalf("Extract wrote %q outside dest (err=%v)", e.Name(), err)
			}
		}
		if err != nil {
			if after := snapshot(t, dest); !maps.Equal(before, after) {
				t.Fatalf("failed extraction changed dest (%v):\nbefore %v\nafter  %v", err, before, after)
			}
			return
		}
		_ = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type()&fs.ModeSymlink != 0 {
				rel, _ := filepath.Rel(dest, p)
				if f, oerr := beneath.Open(dest, rel); errors.Is(oerr, beneath.ErrEscapes) {
					target, _ := os.Readlink(p)
					t.Fatalf("symlink %s -> %s resolves outside dest", rel, target)
				} else if oerr == nil {
					f.Close()
				}
			}
			return nil
		})
	})
}
