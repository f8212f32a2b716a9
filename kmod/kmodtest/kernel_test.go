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
