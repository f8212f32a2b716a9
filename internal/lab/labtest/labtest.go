// SPDX-License-Identifier: Apache-2.0

// Package labtest holds checks that several packages' VM tests share, run
// in the guest (see package vmtest), and the host-side lab fixtures their
// tests share: the Photon lab (RequirePhoton) and the toolchain roots
// (ToolchainCache, BookwormRoot).
package labtest

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
)

// CmdlineMarker is what testdata/patches/cmdline-string.patch appends to
// /proc/cmdline.
const CmdlineMarker = " klpkit=cmdline-string\n"

// LoadShowsMarker loads the livepatch module ko with package kmod, checks
// that the kernel calls it wantName and that file shows marker only while
// it is loaded, and unloads it.
func LoadShowsMarker(t *testing.T, ko, wantName, file, marker string) {
	t.Helper()
	read := func() string {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		return string(b)
	}
	require.NotContains(t, read(), marker, "before loading")
	var sys kmod.System
	res, err := sys.Load(t.Context(), ko, nil)
	require.NoError(t, err)
	require.Equal(t, wantName, res.Module.Name)
	require.Contains(t, read(), marker, "while loaded")
	_, err = sys.Unload(t.Context(), res.Module.Name, nil)
	require.NoError(t, err)
	require.NotContains(t, read(), marker, "after unloading")
}

// RequireGuestRelease fails unless the guest runs a kernel whose release
// starts with prefix (a test meant for one lab generation booted another).
func RequireGuestRelease(t testing.TB, prefix string) {
	t.Helper()
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(release), prefix), "guest kernel %q, want %s*", release, prefix)
}
