// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// "cp -r" copies symlinks as links, never following them, and refuses one
// that would point outside the build directory from where the copy puts
// it (absolute, climbing out, or only climbing out from the shallower
// copy), naming the link. Links that stay inside are copied.
func TestPrepCopyRefusesEscapingSymlinks(t *testing.T) {
	cases := []struct {
		name, link, target, cmd string
		refused                 bool
	}{
		{"absolute", "a/b/dir/l", "/etc/passwd", "cp -r a/b/dir c", true},
		{"climbs out", "a/b/dir/l", "../../../../../outside/victim", "cp -r a/b/dir c", true},
		{"out only from the copy", "a/b/dir/l", "../../../f", "cp -r a/b/dir c", true},
		{"through a link to the root", "a/b/dir/l", "up/../outside/victim", "cp -a a/b/dir c", true},
		{"inside", "a/b/dir/l", "../../../f", "cp -r a/b/dir a/b/dir2", false},
		{"inside, plain", "a/b/dir/l", "x", "cp -r a/b/dir c", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			build := filepath.Join(parent, "BUILD")
			sources := filepath.Join(parent, "SOURCES")
			outside := filepath.Join(parent, "outside")
			linux := filepath.Join(build, "linux")
			for _, d := range []string{outside, sources, filepath.Join(linux, "a/b/dir")} {
				require.NoError(t, os.MkdirAll(d, 0o755))
			}
			require.NoError(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("secret\n"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(linux, "f"), []byte("f\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(linux, "a/b/dir/x"), []byte("x\n"), 0o644))
			// up -> the build directory's parent, for a chain.
			require.NoError(t, os.Symlink("../../../..", filepath.Join(linux, "a/b/dir/up")))
			if tc.name != "through a link to the root" {
				require.NoError(t, os.Remove(filepath.Join(linux, "a/b/dir/up")))
			}
			require.NoError(t, os.Symlink(tc.target, filepath.Join(linux, tc.link)))
			spec := &Spec{File: "t.spec", Prep: []SpecLine{{Line: 6, Text: "cd linux"}, {Line: 7, Text: tc.cmd}}}
			r := &prepRunner{ctx: context.Background(), spec: spec, sourceDir: sources, buildDir: build, patchCmd: "patch"}
			err := r.run()
			if !tc.refused {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnsupportedSpec)
			var se *SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 7, se.Line)
			assert.Contains(t, err.Error(), "/l")
			assert.Contains(t, err.Error(), "outside the build directory")
			assert.NotContains(t, err.Error(), "secret")
			// No link in the copy points out.
			_ = filepath.Walk(build, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode()&os.ModeSymlink != 0 && filepath.Dir(p) != filepath.Join(linux, "a/b/dir") {
					target, _ := os.Readlink(p)
					t.Errorf("link %s -> %s was copied", p, target)
				}
				return nil
			})
		})
	}
}
