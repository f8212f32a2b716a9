// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/asuser"
)

// A tree whose link leads through a directory only root may pass (a link
// farm into a tree under root's home) is refused before anything runs,
// naming the link, where it leads and the directory in the way. It used
// to fail at the compiler, as the build user, with "permission denied".
func TestRunRefusesLinksTheBuildUserCannotFollow(t *testing.T) {
	requireRoot(t)
	private := t.TempDir() // its parent is 0700
	require.NoError(t, os.MkdirAll(filepath.Join(private, "include"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(private, "include", "a.h"), []byte("#define A 1\n"), 0o644))
	tree := openFakeTree(t, goodConfig)
	link := filepath.Join(tree, "include")
	require.NoError(t, os.Symlink(filepath.Join(private, "include"), link))

	var stages []Stage
	_, err := Run(t.Context(), Options{
		Source:  &Tree{Release: "6.1.0-test", Dir: tree, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
		Patches: []string{writePatch(t, fakePatch)}, OutputDir: t.TempDir(), WorkDir: reachable(t),
		SkipCompilerCheck: true,
		BuildUser:         &BuildUser{UID: 4242, GID: 4243},
		Progress:          klpkit.On(func(e Event) { stages = append(stages, e.Stage) }),
	})
	require.ErrorIs(t, err, ErrBuildUserAccess)
	assert.NotContains(t, stages, StageCompile, "refused before compiling")
	var ae *asuser.AccessError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, link, ae.Path)
	assert.True(t, errors.Is(err, fs.ErrPermission))
	for _, s := range []string{"uid 4242", link, filepath.Join(private, "include"), filepath.Dir(private) + " stops it", "build as root"} {
		assert.Contains(t, err.Error(), s)
	}
}

// Which links the check lets through: relative ones inside the tree, and
// any whose target the user reaches by path; an absolute link is followed
// by path even into its own tree, which a tree behind a private parent
// does not allow.
func TestCheckTreeLinks(t *testing.T) {
	requireRoot(t)
	u := &asuser.User{UID: 4242, GID: 4243}
	open := openTempDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(open, "h.h"), nil, 0o644))
	closed := filepath.Join(t.TempDir(), "closed")
	require.NoError(t, os.Mkdir(closed, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(closed, "h.h"), nil, 0o644))
	unreadable := filepath.Join(open, "secret.h")
	require.NoError(t, os.WriteFile(unreadable, nil, 0o600))

	for _, tc := range []struct {
		name    string
		private bool              // the tree lies behind a 0700 parent
		links   map[string]string // name in the tree: target (relative to the tree when not absolute)
		refused string            // the link named, "" for none
	}{
		{name: "no links", links: map[string]string{}},
		{name: "relative inside", links: map[string]string{"fs/b.c": "a.c"}},
		{name: "relative inside, private tree", private: true, links: map[string]string{"fs/b.c": "a.c"}},
		{name: "absolute, reachable", links: map[string]string{"include": open}},
		{name: "chain out, reachable", links: map[string]string{"x": "y", "y": open + "/h.h"}},
		{name: "through a private directory", links: map[string]string{"fs/h.h": closed + "/h.h"}, refused: "fs/h.h"},
		{name: "a file only root may read", links: map[string]string{"fs/s.h": unreadable}, refused: "fs/s.h"},
		{name: "absolute inside, private tree", private: true, links: map[string]string{"fs/b.c": "TREE/fs/a.c"}, refused: "fs/b.c"},
		{name: "dangling", links: map[string]string{"fs/gone.c": "/nonexistent/gone.c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := openTempDir(t)
			if tc.private {
				parent = t.TempDir()
			}
			tree := fakeTreeIn(t, parent, goodConfig)
			for name, target := range tc.links {
				if len(target) > 4 && target[:4] == "TREE" {
					target = tree + target[4:]
				}
				require.NoError(t, os.Symlink(target, filepath.Join(tree, name)))
			}
			r := &runner{as: u, tree: Tree{Dir: tree, KbuildDir: tree}}
			err := r.checkTreeLinks(context.Background())
			if tc.refused == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBuildUserAccess)
			var ae *asuser.AccessError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, filepath.Join(tree, tc.refused), ae.Path)
		})
	}
}
