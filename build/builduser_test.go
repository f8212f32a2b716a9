// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/needtest"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it checks that the tree's programs do not run as root")
	}
}

// hostileTree is a kernel tree whose Makefile and scripts write the uid
// they run as into what they make: what a Makefile from a package could do
// with root. Unless open, it lies under a directory only root may enter,
// as root's home and t.TempDir's parent do.
func hostileTree(t *testing.T, open bool) string {
	t.Helper()
	parent := t.TempDir()
	mode := os.FileMode(0o700)
	if open {
		parent, mode = reachable(t), 0o755
	}
	require.NoError(t, os.Chmod(parent, mode))
	tree := filepath.Join(parent, "linux")
	files := map[string]string{
		// kbuild rewrites what it generated in place (gcc -MD's .d files).
		"Makefile": "fs/%.o: fs/%.c\n\tid -u > $@\n\techo 'cmd_$@ := gcc -c -o $@ $<' > fs/.$*.o.cmd\n\techo $@ >> .generated.d\n",
		"fs/a.c":   "int a;\n",
		"fs/b.c":   "int b;\n",
		// objtool's place in a compile: it rewrites the object in place.
		"tools/objtool/objtool": "#!/bin/sh\nid -u >> \"$1\"\n",
	}
	old := time.Now().Add(-2 * time.Hour)
	for name, body := range files {
		p := filepath.Join(tree, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o755))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	// The sources predate .config; what make generated since is newer.
	config := filepath.Join(tree, ".config")
	require.NoError(t, os.WriteFile(config, []byte("CONFIG_LIVEPATCH=y\n"), 0o644))
	require.NoError(t, os.Chtimes(config, old.Add(time.Hour), old.Add(time.Hour)))
	require.NoError(t, os.WriteFile(filepath.Join(tree, ".generated.d"), nil, 0o644))
	return tree
}

// reachable is a work directory as Run makes its own: under the temporary
// directory, which every user may pass through.
func reachable(t *testing.T) string {
	dir, err := os.MkdirTemp("", "klpkit-test-work-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func ownerOf(t *testing.T, path string) uint32 {
	t.Helper()
	st, err := os.Lstat(path)
	require.NoError(t, err)
	return st.Sys().(*syscall.Stat_t).Uid
}

// As root, make of the tree's Makefile runs as the build user. A tree the
// user may not write (root's) or reach by path is built in a linked copy
// in the work directory, and what kbuild made is copied back; the tree's
// own files are never changed. A tree the user may write and reach is
// built in place.
func TestTreeMakeRunsAsBuildUser(t *testing.T) {
	requireRoot(t)
	u := &asuser.User{UID: 4242, GID: 4243}
	for _, tc := range []struct {
		name       string
		userOwns   bool
		open       bool
		wantCopied bool
	}{
		{name: "root's tree", wantCopied: true},
		{name: "root's tree it can reach", open: true, wantCopied: true},
		{name: "the user's tree behind a private parent", userOwns: true, wantCopied: true},
		{name: "the user's tree", userOwns: true, open: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := hostileTree(t, tc.open)
			if tc.userOwns {
				require.NoError(t, asuser.OwnTree(t.Context(), u, tree))
			}
			work := reachable(t)
			require.NoError(t, asuser.Own(u, work))
			before, err := os.ReadFile(filepath.Join(tree, "fs/a.c"))
			require.NoError(t, err)

			k := &kbuildTree{dir: tree, as: u, work: work, log: slog.New(slog.DiscardHandler)}
			out, err := k.make(t.Context(), []string{"-j2"}, []string{"fs/a.o", "fs/b.o"})
			require.NoError(t, err, "%s", out)
			for _, obj := range []string{"fs/a.o", "fs/b.o"} {
				data, err := os.ReadFile(filepath.Join(tree, obj))
				require.NoError(t, err, "the object is in the tree")
				assert.Equal(t, "4242\n", string(data), "make of %s ran as the build user", obj)
				cmd, err := readCmdFile(tree, obj)
				require.NoError(t, err, "its command file is in the tree")
				assert.Equal(t, obj, cmd.Object)
			}
			after, err := os.ReadFile(filepath.Join(tree, "fs/a.c"))
			require.NoError(t, err)
			assert.Equal(t, before, after)
			if tc.wantCopied {
				assert.DirExists(t, filepath.Join(work, "kbuild-tree"))
				gen, err := os.ReadFile(filepath.Join(tree, ".generated.d"))
				require.NoError(t, err)
				assert.Empty(t, gen, "the tree's generated file is the tree's: the copy's was rewritten")
				st, err := os.Stat(filepath.Join(tree, "Makefile"))
				require.NoError(t, err)
				assert.Equal(t, uint64(2), uint64(st.Sys().(*syscall.Stat_t).Nlink), "sources are linked, not copied")
				assert.Equal(t, ownerOf(t, filepath.Join(tree, "fs/a.c")), ownerOf(t, filepath.Join(tree, "fs")), "the tree's owner is unchanged")
				assert.Equal(t, uint32(0), ownerOf(t, filepath.Join(tree, "fs/a.o")), "copied back by this process")
				assert.Equal(t, uint32(4242), ownerOf(t, filepath.Join(work, "kbuild-tree/fs")))
			} else {
				assert.NoDirExists(t, filepath.Join(work, "kbuild-tree"))
			}

			// The compile steps (the compiler, then objtool from the
			// tree) run as the build user too, writing into the work
			// directory.
			outDir := filepath.Join(work, "patched")
			r := &runner{work: work, as: u}
			require.NoError(t, r.mkdirForUser(filepath.Join(outDir, "fs")))
			obj := filepath.Join(outDir, "fs/a.o")
			c := &compiler{tree: tree, log: slog.New(slog.DiscardHandler), as: u}
			require.NoError(t, c.run(t.Context(), "fs/a.o", [][]string{
				{"/bin/sh", "-c", `id -u > "$1"`, "cc", obj},
				{"./tools/objtool/objtool", obj},
			}))
			data, err := os.ReadFile(obj)
			require.NoError(t, err)
			assert.Equal(t, "4242\n4242\n", string(data))
		})
	}
}

// The work directory's files reach the compiler by path: one the build
// user cannot reach is refused before anything runs, saying what to do;
// so is a tree it cannot read.
func TestRunRefusesWhatTheBuildUserCannotReach(t *testing.T) {
	requireRoot(t)
	private := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "work") // t.TempDir's parent is 0700
		require.NoError(t, os.Mkdir(dir, 0o755))
		return dir
	}
	for _, tc := range []struct {
		name       string
		closedTree bool
		kbuild     bool // the tree is readable through a descriptor, but make needs the kbuild tree's path
		work       func(*testing.T) string
		wantIn     string
	}{
		{name: "work directory behind a private parent", work: private, wantIn: "choose a work directory"},
		{name: "tree only root may read", closedTree: true, work: reachable, wantIn: "make the tree readable"},
		{name: "kbuild tree behind a private parent", work: reachable, kbuild: true, wantIn: "give a kbuild tree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := fakeTree(t, goodConfig)
			if tc.closedTree {
				require.NoError(t, os.Chmod(tree, 0o700))
			}
			work := tc.work(t)
			var stages []Stage
			_, err := Run(t.Context(), Options{
				Source:  &Tree{Release: "6.1.0-test", Dir: tree, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
				Patches: []string{writePatch(t, fakePatch)}, OutputDir: t.TempDir(), WorkDir: work,
				SkipCompilerCheck: true,
				BuildUser:         &BuildUser{UID: 4242, GID: 4243},
				Progress:          klpkit.On(func(e Event) { stages = append(stages, e.Stage) }),
			})
			require.ErrorIs(t, err, ErrBuildUserAccess)
			assert.NotContains(t, stages, StageCompile, "refused before compiling")
			var ae *asuser.AccessError
			require.ErrorAs(t, err, &ae)
			want := work
			if tc.closedTree || tc.kbuild {
				want = tree
			}
			assert.Equal(t, want, ae.Path)
			assert.True(t, errors.Is(err, fs.ErrPermission))
			for _, s := range []string{"uid 4242", want, tc.wantIn, "build as root"} {
				assert.Contains(t, err.Error(), s)
			}
			assert.False(t, strings.Contains(err.Error(), "\n"), "one line: %q", err)
		})
	}
}

// Building as root is an explicit choice; a caller that is not root is
// never changed.
func TestBuildUserChoice(t *testing.T) {
	requireRoot(t)
	tree := t.TempDir()
	u, err := buildUser(&Options{}, tree)
	require.NoError(t, err)
	require.NotNil(t, u, "root's tree: nobody")
	assert.Equal(t, asuser.Nobody(), u)

	require.NoError(t, os.Chown(tree, 4242, 4243))
	u, err = buildUser(&Options{}, tree)
	require.NoError(t, err)
	assert.Equal(t, &asuser.User{UID: 4242, GID: 4243}, u, "the tree's owner")

	u, err = buildUser(&Options{BuildUser: &BuildUser{UID: 7, GID: 8}}, tree)
	require.NoError(t, err)
	assert.Equal(t, &asuser.User{UID: 7, GID: 8}, u)

	u, err = buildUser(&Options{BuildAsRoot: true}, tree)
	require.NoError(t, err)
	assert.Nil(t, u)

	_, err = buildUser(&Options{BuildUser: &BuildUser{UID: 0, GID: 8}}, tree)
	require.ErrorIs(t, err, ErrBadOptions)
}
