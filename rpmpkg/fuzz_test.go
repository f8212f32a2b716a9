package rpmpkg

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
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
// of stopping at digests. Nothing may appear outside dest, and a failed
// extraction leaves dest empty.
func FuzzExtract(f *testing.F) {
	addPackageSeeds(f)
	for _, entries := range [][]testEntry{
		{dir("./a"), reg("./a/b", "x")},
		{symlink("./l", "../../etc"), reg("./l/passwd", "x")},
		{dir("./real"), symlink("./link", "real"), reg("./link/f", "x")},
		{reg("./../x", "y")},
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
			left, _ := os.ReadDir(dest)
			if len(left) > 0 {
				t.Fatalf("failed extraction left %d entries in dest: %v", len(left), err)
			}
		}
	})
}
