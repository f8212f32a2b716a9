// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/beneath"
)

const hostSecret = "TOPSECRET-host-file-content"

// %prep commands read files through the same rule: a link that reads as
// inside but resolves outside is refused, and its target's text is not in
// the error.
func TestPrepRunnerReadsDoNotFollowLinksOut(t *testing.T) {
	cases := map[string]string{
		"sed -i":       "sed -i 's/a/b/' linux/chain",
		"sed redirect": "sed -e 's/a/b/' linux/chain > linux/out",
		"cp":           "cp linux/chain linux/copy",
		"include":      "%include linux/chain",
	}
	for name, cmd := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			build := filepath.Join(parent, "BUILD")
			sources := filepath.Join(parent, "SOURCES")
			require.NoError(t, os.MkdirAll(filepath.Join(build, "linux", "c"), 0o755))
			require.NoError(t, os.MkdirAll(sources, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(parent, "secret"), []byte(hostSecret+"\n"), 0o600))
			require.NoError(t, os.Symlink("..", filepath.Join(build, "linux", "c", "d")))
			// linux/c/d/../../secret: lexically BUILD/secret, really parent/secret.
			require.NoError(t, os.Symlink("c/d/../../secret", filepath.Join(build, "linux", "chain")))
			spec := &Spec{File: "t.spec", Prep: []SpecLine{{Line: 3, Text: cmd}}}
			r := &prepRunner{ctx: context.Background(), spec: spec, sourceDir: sources, buildDir: build, patchCmd: "patch"}
			err := r.run()
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "TOPSECRET")
			for _, out := range []string{"out", "copy"} {
				data, _ := os.ReadFile(filepath.Join(build, "linux", out))
				assert.NotContains(t, string(data), "TOPSECRET")
			}
			data, _ := os.ReadFile(filepath.Join(parent, "secret"))
			assert.Equal(t, hostSecret+"\n", string(data), "the host file is unchanged")
		})
	}
}

// A source tarball that is a link out of SOURCES is not unpacked.
func TestPrepUnpackDoesNotFollowLinksOut(t *testing.T) {
	for _, xzCmd := range []string{"", "xz"} {
		parent := t.TempDir()
		sources := filepath.Join(parent, "SOURCES")
		build := filepath.Join(parent, "BUILD")
		require.NoError(t, os.MkdirAll(sources, 0o755))
		require.NoError(t, os.MkdirAll(build, 0o755))
		name := "linux-1.0.tar"
		if xzCmd != "" {
			name += ".xz"
		}
		require.NoError(t, os.WriteFile(filepath.Join(parent, "host.tar"), []byte("not read"), 0o600))
		require.NoError(t, os.Symlink("../host.tar", filepath.Join(sources, name)))
		spec := &Spec{File: "t.spec", Name: "linux", Version: "1.0", Sources: map[int]string{0: name},
			Prep: []SpecLine{{Line: 5, Text: "%setup -q"}}}
		r := &prepRunner{ctx: context.Background(), spec: spec, sourceDir: sources, buildDir: build, patchCmd: "patch", xzCmd: xzCmd}
		err := r.run()
		require.Error(t, err)
		assert.True(t, errors.Is(err, beneath.ErrEscapes) || strings.Contains(err.Error(), beneath.ErrEscapes.Error()), "got %v", err)
	}
}

// A preamble %include that is a link out of the source directory is not
// read, so no line of the host file shows up in the error.
func TestParseSpecIncludeLinkOut(t *testing.T) {
	parent := t.TempDir()
	sources := filepath.Join(parent, "SOURCES")
	require.NoError(t, os.MkdirAll(sources, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret"), []byte(hostSecret+" is not a spec line\n"), 0o600))
	require.NoError(t, os.Symlink("../secret", filepath.Join(sources, "defs.inc")))
	_, err := ParseSpec("t.spec", []byte("Name: linux\nVersion: 1.0\nRelease: 1\nSource1: defs.inc\n%include %{SOURCE1}\n"), SpecOptions{SourceDir: sources})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "TOPSECRET")
	assert.Contains(t, err.Error(), "defs.inc")
}
