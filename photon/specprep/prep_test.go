// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

func TestPrepareEventProgress(t *testing.T) {
	ev := PrepareEvent{Step: StepExtract, Detail: "unpacking"}
	assert.Equal(t, klpkit.Progress{Op: klpkit.OpPrepare, Step: "extract", Message: "unpacking", Detail: ev}, ev.Progress())
}

// Prep needs its spec and both directories; with them it runs %prep and
// reports each unpacked tarball.
func TestPrep(t *testing.T) {
	spec := &Spec{File: "t.spec", Name: "linux", Version: "1.0", Sources: map[int]string{0: "linux-1.0.tar"},
		Prep: []SpecLine{{Line: 4, Text: "%setup -q"}, {Line: 5, Text: "mkdir -p extra"}}}
	for name, opts := range map[string]PrepOptions{
		"no source dir": {BuildDir: "/b"},
		"no build dir":  {SourceDir: "/s"},
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, Prep(context.Background(), spec, opts))
		})
	}
	require.Error(t, Prep(context.Background(), nil, PrepOptions{SourceDir: "/s", BuildDir: "/b"}))

	parent := t.TempDir()
	sources, build := filepath.Join(parent, "SOURCES"), filepath.Join(parent, "BUILD")
	require.NoError(t, os.MkdirAll(sources, 0o755))
	require.NoError(t, os.MkdirAll(build, 0o755))
	tarball := makeTar(t, tarEntry{name: "linux-1.0/Makefile", typ: tar.TypeReg, body: "all:\n"})
	require.NoError(t, os.WriteFile(filepath.Join(sources, "linux-1.0.tar"), tarball, 0o644))
	var events []PrepareEvent
	err := Prep(context.Background(), spec, PrepOptions{SourceDir: sources, BuildDir: build,
		Progress: klpkit.On(func(ev PrepareEvent) { events = append(events, ev) })})
	require.NoError(t, err)
	assert.Equal(t, []PrepareEvent{{Step: StepUnpack, Detail: "linux-1.0.tar"}}, events)
	assert.DirExists(t, filepath.Join(build, "linux-1.0", "extra"))
	assert.FileExists(t, filepath.Join(build, "linux-1.0", "Makefile"))
}
