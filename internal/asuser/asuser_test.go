// SPDX-License-Identifier: Apache-2.0

//go:build linux

package asuser

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: it drops to another user")
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    *User
		wantErr bool
	}{
		{spec: "1234", want: &User{UID: 1234, GID: 1234}},
		{spec: "1234:99", want: &User{UID: 1234, GID: 99}},
		{spec: "nobody", want: Nobody()},
		{spec: "0", wantErr: true},
		{spec: "root", wantErr: true},
		{spec: "1234:0", wantErr: true},
		{spec: "", wantErr: true},
		{spec: "1234:", wantErr: true},
		{spec: "no-such-user-klpkit", wantErr: true},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			u, err := Lookup(tc.spec)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrBadSpec)
				assert.Contains(t, err.Error(), tc.spec)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, u)
		})
	}
}

// A private directory: its parent is mode 0700 and root's, as root's home
// and t.TempDir's parent are. The user still runs in it through Setup.
func TestSetupReachesAPrivateDirectory(t *testing.T) {
	requireRoot(t)
	u := &User{UID: 4242, GID: 4243}
	priv := t.TempDir()
	require.NoError(t, os.Chmod(priv, 0o700))
	dir := filepath.Join(priv, "tree")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in"), []byte("tree file\n"), 0o644))
	require.NoError(t, Own(u, dir))

	cmd := exec.Command("/bin/sh", "-c", `id -u; id -g; id -G; pwd; cat in; echo made > out`)
	done, err := Setup(cmd, u, dir)
	require.NoError(t, err)
	out, err := cmd.CombinedOutput()
	done()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, []string{"4242", "4243", "4243", dir, "tree file"}, strings.Split(strings.TrimSpace(string(out)), "\n"))
	st, err := os.Stat(filepath.Join(dir, "out"))
	require.NoError(t, err)
	assert.Equal(t, uint32(4242), st.Sys().(*syscall.Stat_t).Uid, "what the user writes is its own")
}

func TestCheck(t *testing.T) {
	requireRoot(t)
	u := &User{UID: 4242, GID: 4243}
	priv := t.TempDir()
	require.NoError(t, os.Chmod(priv, 0o700))
	mine := filepath.Join(priv, "mine")
	roots := filepath.Join(priv, "roots")
	secret := filepath.Join(priv, "secret")
	for _, d := range []string{mine, roots} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, os.Mkdir(secret, 0o700))
	require.NoError(t, Own(u, mine))
	open := t.TempDir()
	require.NoError(t, os.Chmod(open, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(open), 0o755))
	require.NoError(t, Own(u, open))
	for _, tc := range []struct {
		name         string
		dir          string
		write, viaFD bool
		ok           bool
	}{
		{name: "own directory, through the descriptor", dir: mine, write: true, viaFD: true, ok: true},
		{name: "own directory, by a path through a private parent", dir: mine, viaFD: false, ok: false},
		{name: "own directory, by a path it can walk", dir: open, write: true, ok: true},
		{name: "root's directory, reading", dir: roots, viaFD: true, ok: true},
		{name: "root's directory, writing", dir: roots, write: true, viaFD: true, ok: false},
		{name: "root's private directory", dir: secret, viaFD: true, ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(t.Context(), u, tc.dir, tc.write, tc.viaFD, "testing")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ae *AccessError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.dir, ae.Path)
			assert.True(t, errors.Is(err, fs.ErrPermission), "%v", err)
			assert.Contains(t, err.Error(), "uid 4242")
		})
	}
	require.NoError(t, Check(t.Context(), nil, secret, true, false, "the caller"))
}
