// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(packagesFixture, strings.Repeat("ab", 32))))
	f.Add([]byte("Package: a\nVersion: 1\nDepends: b (>= 1) | c\nFilename: p/a.deb\nSize: 1\nSHA256: " + strings.Repeat("0", 64) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex(data, "http://x/")
		if err != nil {
			return
		}
		for name := range idx.byName {
			l, err := idx.Resolve([]string{name})
			if err == nil && len(l) == 0 {
				t.Fatalf("resolving %s chose nothing", name)
			}
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte(releaseFixture))
	f.Fuzz(func(t *testing.T, data []byte) {
		rel, err := parseRelease(data)
		if err != nil {
			return
		}
		for _, v := range rel.Files {
			if !isSHA256(v.SHA256) || v.Size < 0 {
				t.Fatalf("accepted %+v", v)
			}
		}
	})
}

func FuzzExtractDeb(f *testing.F) {
	f.Add(makeDeb(f, ".gz", dirEntry("./usr/"), file("./usr/a", "a"), symlink("./usr/b", "/usr/a"), hardlink("./usr/c", "./usr/a")))
	f.Add(makeDeb(f, "", symlink("./l", "x"), file("./l/y", "y")))
	f.Fuzz(func(t *testing.T, deb []byte) {
		parent, err := os.MkdirTemp("", "fuzz-deb-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(parent)
		dir := parent + "/root"
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		_ = extractDeb(context.Background(), bytes.NewReader(deb), &extractor{root: root, limit: 1 << 20})
		if left, _ := os.ReadDir(parent); len(left) != 1 {
			t.Fatalf("wrote beside the root: %v", left)
		}
	})
}
