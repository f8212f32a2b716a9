// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seriesFuzzDir is a quilt directory with a good patch, a malformed one,
// a binary one and a subdirectory; the fuzzer writes the series file.
func seriesFuzzDir(t *testing.T, series string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"a.patch":       "--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b\n",
		"sub/b.patch":   "diff --git a/g.c b/g.c\n--- a/g.c\n+++ b/g.c\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n",
		"bad.patch":     "--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n",
		"binary.patch":  "--- a/f\x00\n",
		"series":        series,
		"../outside.p":  "--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b\n",
		"sub/empty.dif": "",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FuzzParseSeries parses arbitrary quilt series files. It must not panic;
// an error must be a *ParseError, one of this package's sentinels or a
// file error about a named patch (anything else is an internal error); a
// success has patches, each from a file inside the series directory.
func FuzzParseSeries(f *testing.F) {
	for _, seed := range []string{
		"a.patch\n",
		"a.patch -p1 # comment\nsub/b.patch -p0\n",
		"# only a comment\n\n",
		"../outside.p\n",
		"bad.patch\n",
		"binary.patch\n",
		"a.patch -p17\n",
		"a.patch -R\n",
		"missing.patch\n",
		"sub\n",
		"sub/empty.dif\n",
		"/etc/passwd\n",
		"a.patch\r\n",
		"a.patch " + strings.Repeat("#", 70000) + "\n", // once beyond bufio.Scanner's line limit
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, series string) {
		dir := seriesFuzzDir(t, series)
		ps, err := ParseSeries(dir, nil)
		if err != nil {
			var pe *ParseError
			var fe *fs.PathError
			switch {
			case errors.As(err, &pe), errors.Is(err, ErrNoPatches), errors.Is(err, ErrMalformedPatch),
				errors.Is(err, ErrUnsafePath), errors.Is(err, ErrBinaryPatch), errors.As(err, &fe):
				return
			}
			t.Fatalf("internal error: %T: %v", err, err)
		}
		if len(ps) == 0 {
			t.Fatal("no error and no patches")
		}
		for _, p := range ps {
			if p == nil {
				t.Fatal("nil patch")
			}
		}
	})
}
