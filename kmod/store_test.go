// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstallLayouts(t *testing.T) {
	for _, tc := range []struct {
		layout kmod.StoreLayout
		dir    string
	}{
		{kmod.StorePhoton, "lib/modules/" + kmodtest.DefaultRelease + "/livepatches"},
		{kmod.StoreUpstream, "var/lib/kpatch/" + kmodtest.DefaultRelease},
	} {
		t.Run(tc.layout.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			e.sys.Store = tc.layout
			src := e.module(t, "livepatch-foo.ko", "livepatch_foo")
			dst, err := e.sys.Install(src, nil)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(e.k.Root, tc.dir, "livepatch-foo.ko"), dst)
			want, _ := os.ReadFile(src)
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			_, err = e.sys.Install(src, nil)
			require.ErrorIs(t, err, kmod.ErrAlreadyInstalled)
			_, err = e.sys.Install(src, &kmod.InstallOptions{Overwrite: true})
			require.NoError(t, err)

			inst, err := e.sys.Installed("")
			require.NoError(t, err)
			require.Len(t, inst, 1)
			assert.Equal(t, kmod.Installed{Name: "livepatch_foo", Path: dst, KernelVersion: kmodtest.DefaultRelease, Layout: tc.layout}, inst[0])

			found, err := e.sys.FindInstalled("livepatch-foo.ko", kmodtest.DefaultRelease)
			require.NoError(t, err)
			assert.Equal(t, dst, found[0].Path)

			removed, err := e.sys.Uninstall("livepatch_foo", "")
			require.NoError(t, err)
			require.Len(t, removed, 1)
			assert.Equal(t, dst, removed[0].Path)
			assert.Equal(t, tc.layout, removed[0].Layout)
			_, err = e.sys.Uninstall("livepatch_foo", "")
			require.ErrorIs(t, err, kmod.ErrNotInstalled)
		})
	}
}

func TestInstalledReadsBothStores(t *testing.T) {
	e := newEnv(t, nil)
	src := e.module(t, "a.ko", "a")
	_, err := e.sys.Install(src, nil) // Photon store
	require.NoError(t, err)
	up := *e.sys
	up.Store = kmod.StoreUpstream
	src2, err := kmodtest.WriteModule(e.dir, "b.ko.xz", kmodtest.ModuleSpec{Name: "b", Livepatch: true, Vermagic: "5.10.4-1.ph4 SMP mod_unload "})
	require.NoError(t, err)
	_, err = up.Install(src2, &kmod.InstallOptions{KernelVersion: "5.10.4-1.ph4"})
	require.NoError(t, err)

	inst, err := e.sys.Installed("")
	require.NoError(t, err)
	var got []string
	for _, in := range inst {
		got = append(got, in.Name+"@"+in.KernelVersion)
	}
	assert.Equal(t, []string{"b@5.10.4-1.ph4", "a@" + kmodtest.DefaultRelease}, got)
}

func TestInstallRefusals(t *testing.T) {
	e := newEnv(t, nil)
	src := e.module(t, "a.ko", "a")
	_, err := e.sys.Install(src, &kmod.InstallOptions{KernelVersion: "6.1.0-9-amd64"})
	var ve *kmod.VermagicError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "6.1.0-9-amd64", ve.Want)

	_, err = e.sys.Install(src, &kmod.InstallOptions{KernelVersion: "6.1.0-9-amd64", Force: true})
	require.NoError(t, err)

	plain, err := kmodtest.WriteModule(e.dir, "plain.ko", kmodtest.ModuleSpec{Name: "plain"})
	require.NoError(t, err)
	_, err = e.sys.Install(plain, nil)
	require.ErrorIs(t, err, kmod.ErrNotLivepatch)

	notko := filepath.Join(e.dir, "a.txt")
	require.NoError(t, os.WriteFile(notko, nil, 0o644))
	_, err = e.sys.Install(notko, nil)
	require.ErrorIs(t, err, kmod.ErrBadModule)

	_, err = e.sys.Install(filepath.Join(e.dir, "missing.ko"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = e.sys.FindInstalled("../etc/x", "")
	require.ErrorContains(t, err, `"../etc/x": give a module name, not a path`)
	entries, _ := os.ReadDir(e.sys.StoreDir(kmodtest.DefaultRelease))
	for _, en := range entries {
		assert.NotContains(t, en.Name(), ".tmp", "no temp file left")
	}
}

func TestListAndInfo(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{ReplaceAttr: true, StackOrder: true})
	e.k.SetPatch("b", kmodtest.Patch{Objects: map[string][]string{"vmlinux": {"meminfo_proc_show"}, "ext4": {"ext4_fill_super", "ext4_sync_fs"}}})
	for _, n := range []string{"a", "b"} {
		src := e.module(t, n+".ko", n)
		_, err := e.sys.Load(ctx(t), src, loadOpts(nil))
		require.NoError(t, err)
		_, err = e.sys.Install(src, nil)
		require.NoError(t, err)
	}
	l, err := e.sys.List()
	require.NoError(t, err)
	require.Len(t, l.Loaded, 2)
	b := l.Loaded[1]
	assert.Equal(t, "b", b.Name)
	assert.True(t, b.Enabled)
	assert.Equal(t, 2, b.StackOrder)
	require.Len(t, b.Objects, 2)
	assert.Equal(t, "ext4", b.Objects[0].Name)
	assert.Len(t, b.Objects[0].Functions, 2)
	assert.Len(t, l.Installed, 2)
	assert.Empty(t, l.Stalled)

	m, err := e.sys.Info("a")
	require.NoError(t, err)
	assert.Equal(t, "a", m.Name)
	assert.True(t, m.Info.Livepatch)
	_, err = e.sys.Info("nothing")
	require.ErrorIs(t, err, kmod.ErrNotInstalled)
}

func TestListWithoutLivepatchKernel(t *testing.T) {
	e := newEnv(t, &kmodtest.Config{NoLivepatch: true})
	l, err := e.sys.List()
	require.NoError(t, err)
	assert.Empty(t, l.Loaded)
}

// A kernel version is one directory name: "../x" must not write outside the
// store, and glob characters must not match other kernels' modules.
func TestStoreRefusesBadKernelVersions(t *testing.T) {
	e := newEnv(t, nil)
	src := e.module(t, "a.ko", "a")
	for _, kver := range []string{"../../escape", "a/b", "..", ".", "6.1.0/.."} {
		_, err := e.sys.Install(src, &kmod.InstallOptions{KernelVersion: kver, Force: true})
		require.Error(t, err, kver)
		assert.Contains(t, err.Error(), kver)
	}
	assert.NoDirExists(t, filepath.Join(e.k.Root, "escape"))

	for _, kver := range []string{"other-1", "other-2"} {
		_, err := e.sys.Install(src, &kmod.InstallOptions{KernelVersion: kver, Force: true})
		require.NoError(t, err)
	}
	for _, kver := range []string{"*", "other-?", "other-[12]"} {
		_, err := e.sys.Uninstall("a", kver)
		const says = "one directory name without glob characters"
		require.ErrorContains(t, err, says, kver)
		_, err = e.sys.Installed(kver)
		require.ErrorContains(t, err, says, kver)
	}
	inst, err := e.sys.Installed("")
	require.NoError(t, err)
	assert.Len(t, inst, 2, "nothing uninstalled")
}
