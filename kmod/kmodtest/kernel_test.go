// SPDX-License-Identifier: Apache-2.0

package kmodtest_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake follows the kernel's state machine when driven by hand, without
// package kmod's Load and Unload.
func TestStateMachine(t *testing.T) {
	k := kmodtest.New(t, nil)
	img := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "p", Livepatch: true})
	require.NoError(t, k.InitModule(img, ""))
	require.ErrorIs(t, k.InitModule(img, ""), syscall.EEXIST)

	lp := filepath.Join(k.Root, "sys/kernel/livepatch/p")
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(lp, name))
		return string(b)
	}
	assert.Equal(t, "1\n", read("enabled"))
	require.Eventually(t, func() bool { return read("transition") == "0\n" }, time.Second, time.Millisecond)
	assert.Equal(t, syscall.EWOULDBLOCK, k.DeleteModule("p", 0), "an enabled patch holds a reference")

	require.NoError(t, os.WriteFile(filepath.Join(lp, "enabled"), []byte("0"), 0o644))
	require.Eventually(t, func() bool { _, err := os.Stat(lp); return os.IsNotExist(err) }, time.Second, time.Millisecond)
	// As in the kernel, the reference drops after the directory is gone.
	require.Eventually(t, func() bool {
		refcnt, _ := os.ReadFile(filepath.Join(k.Root, "sys/module/p/refcnt"))
		return string(refcnt) == "0\n"
	}, time.Second, time.Millisecond)
	require.NoError(t, k.DeleteModule("p", 0))
	assert.Equal(t, syscall.ENOENT, k.DeleteModule("p", 0))
	assert.Empty(t, k.Loaded())
}

func TestLoadChecks(t *testing.T) {
	k := kmodtest.New(t, nil)
	assert.Equal(t, syscall.ENOEXEC, k.InitModule([]byte("junk"), ""))
	assert.Equal(t, syscall.ENOEXEC, k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "v", Vermagic: "4.19 SMP "}), ""))
	require.NoError(t, k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "plain"}), ""))
	_, err := os.Stat(filepath.Join(k.Root, "sys/kernel/livepatch/plain"))
	assert.True(t, os.IsNotExist(err), "an ordinary module is no livepatch")

	k.Fail("load", syscall.EBUSY, 1)
	assert.Equal(t, syscall.EBUSY, k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "b", Livepatch: true}), ""))
	release, err := k.Release()
	require.NoError(t, err)
	assert.Equal(t, kmodtest.DefaultRelease, release)
	m, err := kmod.ParseModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "n", Extra: []string{"description=d"}}))
	require.NoError(t, err)
	assert.Equal(t, "d", m.Info.Description)
}

// A kernel before 5.1 keeps a disabled patch registered, lets it be enabled
// again, and enforces the stack order on enable, disable and load.
func TestLegacyStateMachine(t *testing.T) {
	const rel = "4.19.325-1.ph3"
	vermagic := rel + " SMP mod_unload modversions "
	k := kmodtest.New(t, &kmodtest.Config{Release: rel, Vermagic: vermagic})
	load := func(name string) error {
		return k.InitModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: vermagic}), "")
	}
	lp := func(name, attr string) string {
		b, _ := os.ReadFile(filepath.Join(k.Root, "sys/kernel/livepatch", name, attr))
		return string(b)
	}
	write := func(name, attr, v string) error {
		return k.WriteAttr(filepath.Join(k.Root, "sys/kernel/livepatch", name, attr), v)
	}
	settled := func(name string) {
		t.Helper()
		require.Eventually(t, func() bool { return lp(name, "transition") == "0\n" }, time.Second, time.Millisecond)
	}
	refcnt := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(k.Root, "sys/module", name, "refcnt"))
		return string(b)
	}

	require.NoError(t, load("p1"))
	settled("p1")
	assert.Equal(t, "0\n", lp("p1", "signal"), "4.15-5.0 have the signal file")
	require.NoError(t, load("p2"))
	settled("p2")

	assert.Equal(t, syscall.EBUSY, write("p1", "enabled", "0"), "p2 above is enabled")
	assert.Equal(t, syscall.EINVAL, write("p2", "enabled", "1"), "already enabled")
	require.NoError(t, write("p2", "enabled", "0"))
	settled("p2")
	assert.Equal(t, "0\n", lp("p2", "enabled"), "a disabled patch stays registered")
	assert.Equal(t, "0\n", refcnt("p2"), "its reference drops")
	assert.Equal(t, []string{"p1", "p2"}, k.Patches())
	assert.Equal(t, syscall.EBUSY, load("p3"), "no new patch above a disabled one")

	require.NoError(t, write("p1", "enabled", "0"), "p1 is now the topmost enabled patch")
	settled("p1")
	assert.Equal(t, syscall.EBUSY, write("p2", "enabled", "1"), "p1 below is disabled")
	require.NoError(t, k.DeleteModule("p1", 0))
	assert.Equal(t, []string{"p2"}, k.Patches(), "the module's exit unregisters the patch")
	require.NoError(t, write("p2", "enabled", "1"), "re-enabling works before 5.1")
	settled("p2")
	assert.Equal(t, "1\n", refcnt("p2"))
	assert.Len(t, k.Rejected(), 2, "the two refused writes")
}
