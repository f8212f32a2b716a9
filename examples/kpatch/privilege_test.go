// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
)

// Without privileges the commands that change the kernel or the stores
// say to run as root, before taking the lock (whose file a non-root user
// cannot create); list and info keep working.
func TestUnprivilegedSaysRunAsRoot(t *testing.T) {
	e := newCLI(t, nil)
	path := e.module(t, "a.ko", "a")
	e.a.privileges = func() privileges { return privileges{} }
	lock := filepath.Join(e.k.Root, "run", "klpkit-kmod.lock")
	for _, args := range [][]string{
		{"load", path}, {"load", "--all"}, {"unload", "a"}, {"unload", "--all"},
		{"install", path}, {"uninstall", "a"}, {"signal"}, {"force"},
	} {
		err := e.run(args...)
		require.ErrorIs(t, err, kmod.ErrPermission, args)
		assert.Contains(t, e.err.String(), "run as root", args)
		assert.NotContains(t, e.err.String(), "lock", args)
		assert.NoFileExists(t, lock, args)
	}
	assert.Empty(t, e.k.Calls())

	require.NoError(t, e.run("list"))
	require.NoError(t, e.run("info", path))
	assert.Contains(t, e.out.String(), "module name:    a\n")
	require.NoError(t, e.run("version"))
}

// Root without CAP_SYS_MODULE (a container) may install but not load.
func TestRootWithoutModuleCapability(t *testing.T) {
	e := newCLI(t, nil)
	path := e.module(t, "a.ko", "a")
	e.a.privileges = func() privileges { return privileges{root: true} }
	require.NoError(t, e.run("install", path))
	err := e.run("load", "a")
	require.ErrorIs(t, err, kmod.ErrPermission)
	assert.Contains(t, e.err.String(), "CAP_SYS_MODULE")
	assert.Empty(t, e.k.Calls())
}

// currentPrivileges reads what /proc/self/status says.
func TestCurrentPrivilegesMatchProc(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("needs /proc/self/status (Linux)")
	}
	var capEff uint64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			require.NoError(t, err)
		}
	}
	p := currentPrivileges()
	assert.Equal(t, capEff&(1<<16) != 0, p.moduleCap, "CAP_SYS_MODULE is bit 16 of CapEff %x", capEff)
	assert.Equal(t, os.Geteuid() == 0, p.root)
}
