// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeHeaderRoot lays out Debian's 5.10 headers in a toolchain root: the
// -amd64 tree including -common's Makefile by absolute path and linking
// scripts/ into linux-kbuild.
func fakeHeaderRoot(t *testing.T) string {
	root := t.TempDir()
	files := map[string]string{
		"usr/src/linux-headers-5.10.0-46-amd64/Makefile":        "include /usr/src/linux-headers-5.10.0-46-common/Makefile\n",
		"usr/src/linux-headers-5.10.0-46-amd64/.config":         "CONFIG_LIVEPATCH=y\n",
		"usr/src/linux-headers-5.10.0-46-common/Makefile":       "# common\n",
		"usr/src/linux-headers-5.10.0-46-common/include/x.h":    "#define X 1\n",
		"usr/lib/linux-kbuild-5.10/scripts/basic/fixdep":        "ELF",
		"usr/lib/linux-kbuild-5.10/tools/objtool/objtool":       "ELF",
		"usr/lib/gcc/x86_64-linux-gnu/10/not-the-headers.a":     "!<arch>",
		"usr/src/linux-headers-5.10.0-46-common/include/uapi.h": "",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	for _, l := range []string{"scripts", "tools"} {
		require.NoError(t, os.Symlink("../../lib/linux-kbuild-5.10/"+l, filepath.Join(root, "usr/src/linux-headers-5.10.0-46-amd64", l)))
	}
	require.NoError(t, os.Symlink("x.h", filepath.Join(root, "usr/src/linux-headers-5.10.0-46-common/include/y.h")))
	return root
}

func TestInstallHeaders(t *testing.T) {
	root, host := fakeHeaderRoot(t), t.TempDir()
	const rel = "usr/src/linux-headers-5.10.0-46-amd64"
	dirs, err := headerTrees(root, rel)
	require.NoError(t, err)
	require.Equal(t, []string{rel, "usr/lib/linux-kbuild-5.10", "usr/src/linux-headers-5.10.0-46-common"}, dirs)

	log := slog.New(slog.DiscardHandler)
	got, installed, err := installHeaders(root, rel, host, log)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(host, rel), got)
	require.Equal(t, []string{filepath.Join(host, rel), filepath.Join(host, "usr/lib/linux-kbuild-5.10"), filepath.Join(host, "usr/src/linux-headers-5.10.0-46-common")}, installed, "what Prepare's last line reports")
	for _, f := range []string{".config", "scripts/basic/fixdep", "tools/objtool/objtool"} {
		require.FileExists(t, filepath.Join(got, f), "through the links, as in the root")
	}
	require.FileExists(t, filepath.Join(host, "usr/src/linux-headers-5.10.0-46-common/include/y.h"))
	require.NoDirExists(t, filepath.Join(host, "usr/lib/gcc"), "only the headers' trees")
	for _, d := range dirs {
		mark, err := os.ReadFile(filepath.Join(host, d, hostHeadersMark))
		require.NoError(t, err)
		require.Equal(t, root+"\n", string(mark))
	}

	// Installed again from the same root: nothing to do; from another
	// root (new headers): replaced.
	_, installed, err = installHeaders(root, rel, host, log)
	require.NoError(t, err)
	require.Empty(t, installed, "current: nothing installed")
	other := fakeHeaderRoot(t)
	require.NoError(t, os.WriteFile(filepath.Join(other, rel, ".config"), []byte("CONFIG_NEW=y\n"), 0o644))
	_, installed, err = installHeaders(other, rel, host, log)
	require.NoError(t, err)
	require.Len(t, installed, 3, "replaced")
	cfg, err := os.ReadFile(filepath.Join(got, ".config"))
	require.NoError(t, err)
	require.Equal(t, "CONFIG_NEW=y\n", string(cfg))

	// Headers the lab did not install are not replaced.
	require.NoError(t, os.Remove(filepath.Join(host, "usr/src/linux-headers-5.10.0-46-common", hostHeadersMark)))
	_, _, err = installHeaders(root, rel, host, log)
	require.ErrorContains(t, err, "the lab did not put it there")

	// Kbuild in the root reaches the host's path as the root's own copy;
	// a lab prepared before (headers only in the root) still works.
	l := &Lab{KernelRelease: "5.10.0-46-amd64", Compiler: "gcc-10", ToolchainRoot: root, HeadersDir: "/" + rel}
	h, err := l.KbuildHeaders()
	require.NoError(t, err)
	require.Equal(t, "/"+rel, h)
	l.HeadersDir = filepath.Join(root, rel)
	h, err = l.KbuildHeaders()
	require.NoError(t, err)
	require.Equal(t, "/"+rel, h)
}

func TestHeaderTreesRefuseEscapes(t *testing.T) {
	root := fakeHeaderRoot(t)
	const rel = "usr/src/linux-headers-5.10.0-46-amd64"
	require.NoError(t, os.Symlink("/etc", filepath.Join(root, rel, "abs")))
	_, err := headerTrees(root, rel)
	require.ErrorContains(t, err, "absolute")
	require.NoError(t, os.Remove(filepath.Join(root, rel, "abs")))
	require.NoError(t, os.Symlink("../../../../..", filepath.Join(root, rel, "up")))
	_, err = headerTrees(root, rel)
	require.ErrorContains(t, err, "out of the root")
}
