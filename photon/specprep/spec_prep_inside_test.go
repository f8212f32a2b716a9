// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A symlink in the build tree that points out of it (left by a tarball or
// by "cp -r" of a relative link to a shallower place) must not let %prep
// commands write outside, although the path reads as inside.
func TestPrepRunnerRefusesWritesThroughEscapingSymlinks(t *testing.T) {
	cases := map[string]string{
		"mkdir":                             "mkdir -p out/evil",
		"cp into link":                      "cp SOURCES_FILE out/evil",
		"cp onto link":                      "cp SOURCES_FILE file-link",
		"sed redirect":                      "sed -e 's/a/b/' SOURCES_FILE > out/evil",
		"cd then mkdir":                     "cd out",
		"dangling link":                     "cp SOURCES_FILE dangling",
		"pushd the link":                    "pushd out",
		"cp -r into a dir holding the link": "cp -r srcdir/out .",
	}
	for name, cmd := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside")
			build := filepath.Join(parent, "BUILD")
			sources := filepath.Join(parent, "SOURCES")
			for _, d := range []string{outside, filepath.Join(build, "linux"), sources} {
				require.NoError(t, os.MkdirAll(d, 0o755))
			}
			src := filepath.Join(sources, "f")
			require.NoError(t, os.WriteFile(src, []byte("a\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("keep\n"), 0o644))
			require.NoError(t, os.Symlink("../../outside", filepath.Join(build, "linux", "out")))
			require.NoError(t, os.Symlink("../../outside/victim", filepath.Join(build, "linux", "file-link")))
			require.NoError(t, os.Symlink("../../outside/new", filepath.Join(build, "linux", "dangling")))
			require.NoError(t, os.MkdirAll(filepath.Join(build, "linux", "srcdir", "out"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(build, "linux", "srcdir", "out", "evil"), []byte("x\n"), 0o644))

			line := SpecLine{Line: 7, Text: filepath.ToSlash(strings.ReplaceAll(cmd, "SOURCES_FILE", src))}
			spec := &Spec{File: "t.spec", Prep: []SpecLine{{Line: 6, Text: "cd linux"}, line, {Line: 8, Text: "mkdir -p evil2"}}}
			r := &prepRunner{ctx: context.Background(), spec: spec, sourceDir: sources, buildDir: build, patchCmd: "patch"}
			err := r.run()
			require.ErrorIs(t, err, ErrUnsupportedSpec)
			var se *SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 7, se.Line)
			entries, _ := os.ReadDir(outside)
			require.Len(t, entries, 1, "only the victim is outside")
			data, _ := os.ReadFile(filepath.Join(outside, "victim"))
			assert.Equal(t, "keep\n", string(data))
		})
	}
}
