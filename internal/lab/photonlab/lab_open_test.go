// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeFakeManifest makes a complete-looking lab for uname under labDir.
func writeFakeManifest(t *testing.T, labDir, uname string) *Lab {
	t.Helper()
	dir := filepath.Join(PhotonDir(labDir), uname)
	l := &Lab{Dir: dir, KernelRelease: uname, Version: "6.1.192", Release: "1"}
	l.Vmlinuz, l.Vmlinux, l.Config = filepath.Join(dir, "bzImage"), filepath.Join(dir, "vmlinux"), filepath.Join(dir, "config")
	l.ModuleSymvers, l.SourceRPM, l.DebuginfoRPM = filepath.Join(dir, "Module.symvers"), filepath.Join(dir, "src.rpm"), filepath.Join(dir, "debuginfo.rpm")
	l.DevelRPM = filepath.Join(dir, "devel.rpm")
	l.Tree, l.BuildDir, l.RepoDir = filepath.Join(dir, "tree"), filepath.Join(dir, "build"), filepath.Join(dir, "repo")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, d := range []string{l.Tree, l.BuildDir, l.RepoDir} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	for _, f := range []string{l.Vmlinuz, l.Vmlinux, l.Config, l.ModuleSymvers, l.SourceRPM, l.DebuginfoRPM, l.DevelRPM} {
		require.NoError(t, os.WriteFile(f, nil, 0o644))
	}
	require.NoError(t, l.writeManifest())
	return l
}

func TestOpen(t *testing.T) {
	labDir := t.TempDir()
	_, err := Open(labDir)
	require.ErrorIs(t, err, ErrNotPrepared)

	writeFakeManifest(t, labDir, "6.1.192-1.ph5")
	newer := writeFakeManifest(t, labDir, "6.1.192-2.ph5")
	require.NoError(t, os.MkdirAll(filepath.Join(PhotonDir(labDir), "not-a-kernel"), 0o755))
	l, err := Open(labDir)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-2.ph5", l.KernelRelease, "the newest lab wins")
	k, err := l.Kernel()
	require.NoError(t, err)
	require.Equal(t, "6.1.192-2.ph5", k.String())
	require.Contains(t, l.String(), newer.SourceRPM)

	// A lab whose files went missing is not prepared.
	require.NoError(t, os.Remove(newer.Vmlinux))
	_, err = OpenDir(newer.Dir)
	require.ErrorIs(t, err, ErrNotPrepared)
	require.ErrorContains(t, err, "vmlinux missing")
	l, err = Open(labDir)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-1.ph5", l.KernelRelease, "falls back to the complete lab")
}

func TestOpenDirBadManifest(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), []byte("{not json"), 0o644))
	_, err := OpenDir(dir)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotPrepared))
	require.ErrorContains(t, err, manifestName)

	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), []byte(`{"kernel_release":"6.1.0-56-amd64"}`), 0o644))
	_, err = OpenDir(dir)
	require.ErrorContains(t, err, "6.1.0-56-amd64")
}
