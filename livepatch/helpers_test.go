// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

const (
	fixtureTree    = "../testdata/livepatch/tree"
	fixturePatches = "../testdata/livepatch/patches"
)

func fixture(name string) string { return filepath.Join(fixturePatches, name) }

// copyTree copies src into a fresh temp dir and returns it.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	require.NoError(t, err)
	return dst
}

type fileState struct {
	Data string
	Mode fs.FileMode
}

// snapshot maps every regular file under root to its content and mode.
func snapshot(t testing.TB, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fileState{string(data), info.Mode().Perm()}
		return nil
	})
	require.NoError(t, err)
	return out
}

// needGNUPatch returns the path of GNU patch; CI must have it.
func needGNUPatch(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("patch")
	if err != nil {
		needtest.Missing(t, "needs GNU patch (apt-get install patch) to compare results")
	}
	return p
}

func mustParse(t testing.TB, files ...string) []*Patch {
	t.Helper()
	ps, err := ParseFiles(files, nil)
	require.NoError(t, err)
	return ps
}

func lookPatch() (string, error) { return exec.LookPath("patch") }
